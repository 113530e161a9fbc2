from django.urls import path

from accounts import console_views as views

app_name = "admin_console"

urlpatterns = [
    path("", views.home, name="home"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/", views.user_detail, name="user"),
    path("org-units/", views.org_units, name="org_units"),
    path("org-units/<int:unit_id>/", views.org_unit_detail, name="org_unit"),
    path("licences/", views.licences, name="licences"),
    path("roles/", views.roles, name="roles"),
    path("roles/new/", views.role_create, name="role_create"),
    path("roles/<int:role_id>/", views.role_detail, name="role"),
    path("customers/", views.customers, name="customers"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer"),
]
