from django.urls import path

from accounts import token_views

urlpatterns = [
    path("", token_views.tokens, name="tokens"),
    path("<int:token_id>/revoke/", token_views.token_revoke, name="token_revoke"),
]
