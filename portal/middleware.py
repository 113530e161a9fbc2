"""Request hygiene that every view relies on."""

from django.http import QueryDict


def _without_nul(text: str) -> str:
    return text.replace("\x00", "")


class QueryStringNulMiddleware:
    """A NUL character can never be part of a search or filter value, and PostgreSQL
    cannot hold one in a text parameter (it would be a 500). Query-string keys and values
    lose it before any view reads them; forms refuse it in POST bodies with a message
    (Django's ProhibitNullCharactersValidator). The API is left alone: it answers a NUL
    with Google's INVALID_ARGUMENT error, as its clients expect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(("/v2/", "/upload/v2/")):
            return self.get_response(request)
        if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.META.get("QUERY_STRING", ""):
            cleaned = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                cleaned.setlist(_without_nul(key), [_without_nul(v) for v in values])
            cleaned._mutable = False
            request.GET = cleaned
        return self.get_response(request)
