from django.contrib import admin

from customers.models import AccessGrant, AccessGrantChange, Customer, Relationship


class RelationshipInline(admin.TabularInline):
    model = Relationship
    extra = 0
    can_delete = False
    readonly_fields = ["reseller_domain", "kind", "started_at", "ended_at", "started_by", "ended_by"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "primary_domain", "support_tier", "portal_access"]
    list_filter = ["support_tier", "portal_access"]
    search_fields = ["name", "primary_domain__name"]
    inlines = [RelationshipInline]

    def save_model(self, request, obj, form, change):
        tier = obj.support_tier
        super().save_model(request, obj, form, change)
        if change and "support_tier" in form.changed_data:
            # The tier decides the response targets stored on the customer's open cases.
            from cases.services import customer_support_tier_set

            customer_support_tier_set(customer=obj, tier=tier)


@admin.register(Relationship)
class RelationshipAdmin(admin.ModelAdmin):
    """History is read-only here: changes go through the customer services."""

    list_display = ["customer", "reseller_domain", "kind", "started_at", "ended_at"]
    list_filter = ["kind"]
    search_fields = ["customer__name", "reseller_domain__name"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessGrant)
class AccessGrantAdmin(admin.ModelAdmin):
    list_display = ["customer", "reseller_domain", "support_cases", "changed_at", "changed_by"]
    list_filter = ["support_cases"]
    readonly_fields = ["customer", "reseller_domain", "support_cases", "changed_at", "changed_by"]


admin.site.register(AccessGrantChange, list_display=["grant", "support_cases", "changed_at", "changed_by"])
