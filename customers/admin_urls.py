from django.urls import path

from customers import admin_views as views

app_name = "customer_admin"

urlpatterns = [
    path("", views.reseller_access, name="home"),
    path("partners/", views.partners, name="partners"),
    path("users/", views.portal_users, name="users"),
]
