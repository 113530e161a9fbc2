from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers

from portal.when import zone_or_utc


class UserPreferencesMiddleware:
    """Shows every page in the signed-in user's language and time zone (the language
    switch stores its choice on the user). Anonymous visitors get LocaleMiddleware's pick."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
            timezone.activate(zone_or_utc(user.time_zone))
        else:
            timezone.deactivate()
        return self.get_response(request)


class NoStoreWhenSignedInMiddleware:
    """Pages for a signed-in account and API answers are never kept by the browser or a
    shared cache (issue 16): the back button on a shared PC after sign-out shows nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if (signed_in or "HTTP_AUTHORIZATION" in request.META) and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response
