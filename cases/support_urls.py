from django.urls import path

from cases import views

app_name = "support"

urlpatterns = [
    path("", views.support_queue_view, name="queue"),
]
