from django.urls import path

from cases import support_views, views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("export.csv", views.case_export, name="export"),
    path("customer-options/", views.customer_options, name="customer_options"),
    path("new/", views.case_create, name="create"),
    path("new/categories/", views.classification_options, name="classification_options"),
    path("new/questions/", views.classification_questions, name="classification_questions"),
    path("<int:number>/", views.case_detail, name="detail"),
    path("<int:number>/severity/", views.case_change_severity, name="severity"),
    path("<int:number>/close/", views.case_close, name="close"),
    path("<int:number>/reopen/", views.case_reopen, name="reopen"),
    path("<int:number>/escalate/", views.case_escalate, name="escalate"),
    path("<int:number>/messages/", views.case_comment, name="comment"),
    path("<int:number>/attachments/", views.case_attach, name="attach"),
    path("<int:number>/attachments/<int:attachment_id>/", views.attachment_download, name="download"),
    path(
        "<int:number>/attachments/<int:attachment_id>/delete/",
        views.attachment_delete,
        name="attachment_delete",
    ),
    path("<int:number>/share/", views.case_share, name="share"),
    path("<int:number>/state/", views.case_set_state, name="state"),
    path("<int:number>/assign/", views.case_assign_to_me, name="assign"),
    path("<int:number>/support/", support_views.case_update, name="support_update"),
]
