"""Operators' view of the mail: failed sends first, with a retry action; received mail
and what became of it. Rows change only through notifications.services."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models import InboundMail, OutboxMessage
from notifications.services import outbox_retry


class StatusFilter(admin.SimpleListFilter):
    """Failed mail is what operators come for, so it is the first choice."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return OutboxMessage.Status.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "status",
        "notice",
        "case_number",
        "recipient_email",
        "reason",
        "attempts",
        "next_attempt_at",
        "short_error",
    ]
    list_filter = [StatusFilter, "notice", "reason"]
    search_fields = ["recipient_email", "=case__number", "message_id"]
    list_select_related = ["case"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]

    @admin.display(description=_("case"), ordering="case__number")
    def case_number(self, row: OutboxMessage):
        return row.case.number if row.case_id else ""

    @admin.display(description=_("last error"))
    def short_error(self, row: OutboxMessage):
        return (row.last_error[:80] + "…") if len(row.last_error) > 80 else row.last_error

    @admin.action(description=_("Send the selected failed mail again"))
    def retry(self, request, queryset):
        count = outbox_retry(message_ids=list(queryset.values_list("pk", flat=True)))
        messages.success(
            request,
            ngettext("%(n)d failed mail is queued again.", "%(n)d failed mails are queued again.", count)
            % {"n": count},
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "outcome", "sender", "recipient", "subject", "reason"]
    list_filter = ["outcome"]
    search_fields = ["sender", "recipient", "message_id", "subject"]
    date_hierarchy = "received_at"
    readonly_fields = [field.name for field in InboundMail._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
