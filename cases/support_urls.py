from django.urls import path

from cases import support_views

app_name = "support"

urlpatterns = [
    path("", support_views.queue, name="queue"),
    path("counts/", support_views.queue_counts, name="counts"),
    path("bulk/", support_views.bulk, name="bulk"),
    path("views/", support_views.saved_view_save, name="view_save"),
    path("views/<int:view_id>/delete/", support_views.saved_view_delete, name="view_delete"),
    path("canned/", support_views.canned_replies, name="canned"),
    path("canned/<int:reply_id>/", support_views.canned_replies, name="canned_edit"),
]
