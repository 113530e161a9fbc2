from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by super admins and by `seed_demo`; nobody signs themselves up."""

    def is_open_for_signup(self, request) -> bool:
        return False
