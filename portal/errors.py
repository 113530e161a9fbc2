"""Domain errors raised by services. Views turn them into a message, the API into a
Google-style error; none of them is ever a 500."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base class. `message` is translatable and safe to show to the user."""

    status = 400
    api_status = "FAILED_PRECONDITION"
    default_message = _("The request could not be completed.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class NotFound(DomainError):
    """Missing and forbidden objects look the same (R9)."""

    status = 404
    api_status = "NOT_FOUND"
    default_message = _("Not found.")


class PermissionRefused(DomainError):
    status = 403
    api_status = "PERMISSION_DENIED"
    default_message = _("You do not have permission to do this. Ask your domain's super admin.")


class InvalidInput(DomainError):
    status = 400
    api_status = "INVALID_ARGUMENT"
    default_message = _("The request is not valid.")


class InvalidTransition(DomainError):
    status = 400
    api_status = "FAILED_PRECONDITION"
    default_message = _("The case cannot move to that state.")


class StaleWrite(DomainError):
    """Somebody else changed the object since the user loaded it."""

    status = 409
    api_status = "ABORTED"
    default_message = _(
        "Someone else updated this case while you were editing it. Reload the page and try again."
    )
