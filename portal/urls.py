from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from accounts import settings_views
from accounts import views as account_views
from cases.dashboard_views import dashboard
from portal.legacy import supportcenter_redirect
from portal.views import healthz

# The Django admin signs in through the portal's sign-in (its rate limits and two-step
# verification), never with a password form of its own.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", account_views.home, name="home"),
    path("language/", account_views.set_language, name="set_language"),
    path("healthz", healthz, name="healthz"),
    path("accounts/choose/", account_views.account_chooser, name="account_chooser"),
    path("accounts/sign-out-account/", account_views.account_sign_out_one, name="account_sign_out_one"),
    path("accounts/email/", account_views.sign_in_addresses_managed, name="sign_in_addresses_managed"),
    path(
        "accounts/notification-address/confirm/<str:token>/",
        account_views.notification_address_confirm,
        name="notification_address_confirm",
    ),
    path("accounts/", include("allauth.urls")),
    path("cases/", include("cases.urls")),
    path("customers/", include("customers.urls")),
    path("customer/admin/", include("customers.admin_urls")),
    path("customer/", include("customers.portal_urls")),
    path("admin-console/", include("accounts.console_urls")),
    path("dashboard/", dashboard, name="dashboard"),
    path("jobs/", include("jobs.urls")),
    path("support/", include("cases.support_urls")),
    path("supportcenter/", supportcenter_redirect),
    path("supportcenter/<path:rest>", supportcenter_redirect),
    path("settings/", settings_views.personal_settings, name="settings"),
    path("settings/tokens/", include("accounts.token_urls")),
    path("", include("cases.api.urls")),
    path("django-admin/", admin.site.urls),
]

handler500 = "portal.views.server_error"
