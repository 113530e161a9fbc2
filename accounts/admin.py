from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm

from accounts.models import (
    AdminRole,
    ApiToken,
    Domain,
    LicenceAssignment,
    LicencePool,
    LicenceRequest,
    OrgUnit,
    Partner,
    RoleAssignment,
    RolePrivilege,
    User,
)


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "partner"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "auto_licensing"]
    list_filter = ["auto_licensing"]
    search_fields = ["name", "domain__name"]


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    raw_id_fields = ["assigned_by"]


class OperatorUserChangeForm(UserChangeForm):
    """R8 on the operators' path too: a super admin's sign-in address is never @gmail.com."""

    def clean_email(self):
        from accounts.selectors import user_is_super_admin
        from accounts.services import email_is_consumer

        email = self.cleaned_data["email"].strip().lower()
        if self.instance.pk and user_is_super_admin(self.instance) and email_is_consumer(email):
            raise forms.ValidationError("A @gmail.com account can never be a super admin.")
        return email


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = OperatorUserChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "domain", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "domain__kind"]
    search_fields = ["email", "full_name"]
    raw_id_fields = ["domain", "org_unit"]
    inlines = [RoleAssignmentInline]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name", "domain", "org_unit"]}),
        ("Preferences", {"fields": ["language", "time_zone", "notification_email"]}),
        ("Operator", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "domain", "password1", "password2"]})]


class RolePrivilegeInline(admin.TabularInline):
    model = RolePrivilege
    extra = 0


@admin.register(AdminRole)
class AdminRoleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "builtin", "domain"]
    inlines = [RolePrivilegeInline]


admin.site.register(LicencePool, list_display=["domain", "sku", "total"])
admin.site.register(LicenceAssignment, list_display=["user", "sku", "assigned_at"], raw_id_fields=["user"])
admin.site.register(
    LicenceRequest, list_display=["domain", "sku", "quantity", "requested_by", "requested_at"]
)
admin.site.register(
    ApiToken,
    list_display=["user", "name", "prefix", "created_at", "revoked_at"],
    readonly_fields=["token_hash", "prefix"],
)
