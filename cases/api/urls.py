"""The API's fixed addresses (SPEC §5): `/v2/…` and `/upload/v2/…` as in Google's
discovery document, the OpenAPI document and the documentation page.

Resource names carry slashes and a `:verb` suffix (`organizations/7/cases/40000012:close`),
so the routes are regular expressions over name segments."""

from django.urls import path, re_path

from cases.api import docs_views, views

SEGMENT = r"[^/:]+"
PARENT = rf"v2/(?P<kind>{SEGMENT})/(?P<parent>{SEGMENT})"
CASE = rf"{PARENT}/cases/(?P<case>{SEGMENT})"

urlpatterns = [
    path("v2/openapi.json", views.openapi_view, name="api_openapi"),
    path("api/", docs_views.api_docs, name="api_docs"),
    re_path(r"^v2/caseClassifications:search$", views.classifications_search, name="api_classifications"),
    re_path(rf"^{PARENT}/cases$", views.cases_collection, name="api_cases"),
    re_path(rf"^{PARENT}/cases:search$", views.cases_search, name="api_cases_search"),
    re_path(rf"^{CASE}$", views.case_item, name="api_case"),
    re_path(rf"^{CASE}:close$", views.case_close_view, name="api_case_close"),
    re_path(rf"^{CASE}:escalate$", views.case_escalate_view, name="api_case_escalate"),
    re_path(rf"^{CASE}/comments$", views.comments_collection, name="api_comments"),
    re_path(rf"^{CASE}/comments/(?P<comment>{SEGMENT})$", views.comment_item, name="api_comment"),
    re_path(rf"^{CASE}/attachments$", views.attachments_collection, name="api_attachments"),
    re_path(rf"^{CASE}/attachments/(?P<attachment>{SEGMENT})$", views.attachment_item, name="api_attachment"),
    re_path(
        rf"^{CASE}/attachments/(?P<attachment>{SEGMENT}):download$",
        views.attachment_download,
        name="api_attachment_download",
    ),
    re_path(rf"^upload/{CASE}/attachments$", views.attachment_upload, name="api_attachment_upload"),
    # Any other path under /v2 (newlines included) answers in Google's JSON shape.
    re_path(r"^(?:upload/)?v2(?:/(?P<path>[\s\S]*))?$", views.unknown_method),
]
