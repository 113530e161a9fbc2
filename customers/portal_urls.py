from django.urls import path

from customers import views

app_name = "customer_portal"

urlpatterns = [
    path("", views.customer_portal_home, name="home"),
]
