"""The portal's addresses plus one that fails, to see the 500 page as a user would."""

from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def boom(request):
    raise RuntimeError("forced failure for the 500 page test")


urlpatterns = [path("boom/", boom), *portal_urlpatterns]
handler500 = "portal.views.server_error"
