from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.signals import password_changed
from django.dispatch import receiver
from django.http import HttpResponseRedirect

from accounts.multi_account import account_password_changed, slot_of, with_slot_prefix


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by super admins and by `seed_demo`; nobody signs themselves up."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def post_login(self, request, user, **kwargs):
        """An account added to the browser opens in its own `/u/<n>/` address space, so the
        tabs of the accounts already signed in keep theirs (issue 11)."""
        response = super().post_login(request, user, **kwargs)
        if isinstance(response, HttpResponseRedirect):
            response["Location"] = with_slot_prefix(response["Location"], slot_of(request, user))
        return response


@receiver(password_changed, dispatch_uid="accounts.adapters.password_changed")
def _keep_accounts_after_password_change(sender, request, user, **kwargs):
    account_password_changed(request, user)
