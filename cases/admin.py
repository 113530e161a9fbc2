from django.contrib import admin

from cases.models import Attachment, Case, CaseEvent, CaseSubscriber, Classification, Comment


@admin.register(Classification)
class ClassificationAdmin(admin.ModelAdmin):
    list_display = ["display_name", "is_leaf"]
    search_fields = ["display_name", "display_name_ko"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = ["created_at", "author", "author_email", "from_support", "body"]


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ["created_at", "filename", "mime_type", "size", "uploader", "deleted_at", "deletion_reason"]


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ["created_at", "actor", "kind", "field", "before", "after"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """For operators. Changes to cases go through the portal's services, so the case
    itself is read-only here."""

    list_display = ["number", "title", "customer", "managing_domain", "state", "priority", "updated_at"]
    list_filter = ["state", "priority", "channel", "is_test", "customer__support_tier"]
    search_fields = ["=number", "title", "description"]
    list_select_related = ["customer", "managing_domain"]
    raw_id_fields = [
        "customer",
        "managing_domain",
        "creator",
        "classification",
        "assignee",
        "escalated_by",
        "follow_up_of",
    ]
    inlines = [CommentInline, AttachmentInline, CaseEventInline]
    date_hierarchy = "updated_at"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(CaseSubscriber, list_display=["case", "email", "added_at"], raw_id_fields=["case"])
