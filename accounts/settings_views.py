"""/settings/: a person's own language, time zone and mails; the notification address,
read-only, with who may change it; and the way to the API tokens."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.models import TIME_ZONE_CHOICES, User
from accounts.preference_services import user_preferences_update
from notifications.models import Notice
from portal.errors import DomainError


class SettingsForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"))
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        choices=TIME_ZONE_CHOICES,
        help_text=gettext_lazy("Every date and time in the portal and in your mail is shown in this zone."),
    )
    wanted_notices = forms.MultipleChoiceField(
        label=gettext_lazy("Mail I want"),
        choices=Notice.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Mail about cases you filed, are the contact of, or that are shared with you."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = User._meta.get_field("language").choices


@login_required
@require_http_methods(["GET", "POST"])
def personal_settings(request):
    user = request.user
    initial = {
        "language": user.language,
        "time_zone": user.time_zone,
        "wanted_notices": [n for n in Notice.values if n not in (user.muted_notices or [])],
    }
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        wanted = set(form.cleaned_data["wanted_notices"])
        try:
            user_preferences_update(
                user=user,
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
                muted_notices=[n for n in Notice.values if n not in wanted],
                known_notices=list(Notice.values),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            translation.activate(user.language)
            messages.success(request, _("Your settings are saved."))
            return redirect("settings")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "accounts/settings.html", {"form": form}, status=status)
