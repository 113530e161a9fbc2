"""Running a service from a form, the same way on every page."""

from collections.abc import Callable

from django.http import Http404

from portal.errors import DomainError


def form_apply(form, run: Callable[[dict], object]) -> int | None:
    """Run a service with a valid form. None on success; otherwise the error is on the
    form and the status (400/403/409) is returned. NotFound is a plain 404 (R9)."""
    if not form.is_valid():
        return 400
    try:
        run(form.cleaned_data)
    except DomainError as error:
        if error.status == 404:
            raise Http404 from None
        form.add_error(None, str(error.message))
        return error.status
    return None
