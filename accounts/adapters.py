from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by super admins and by `seed_demo`; nobody signs themselves up.
    allauth's mails (password reset and the like) carry the product's name, never the host
    name, and speak the language of the account they are about (issue 12)."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def format_email_subject(self, subject: str) -> str:
        return _("[%(product)s] %(subject)s") % {"product": _("Reseller Support Portal"), "subject": subject}

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        user = context.get("user")
        if not isinstance(user, User):
            user = User.objects.filter(email=(email or "").strip().lower()).first()
        language = user.language if user is not None else translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)
