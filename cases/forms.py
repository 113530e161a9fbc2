"""Forms of the case pages. They parse and validate input; the rules live in services."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from accounts.models import KNOWN_TIME_ZONES, TIME_ZONE_CHOICES, Language
from cases.models import COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH, Case, Classification
from cases.services import MAX_SUBSCRIBERS

PRODUCT_TYPES = [("GOOGLE_WORKSPACE", "Google Workspace")]
MAX_FILES_PER_SUBMIT = 10

SEVERITY_MEANINGS = {
    "P1": _("Critical impact: a core service is unusable in production for many users."),
    "P2": _("High impact: a core service is seriously degraded, or a few users are blocked."),
    "P3": _("Medium impact: a partial, non-critical loss of service, with a workaround."),
    "P4": _("Low impact: a general question or a request for information; no business impact."),
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the upload rules in the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_FILES_PER_SUBMIT:
            raise ValidationError(_("Attach at most %(n)d files at a time.") % {"n": MAX_FILES_PER_SUBMIT})
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


def classification_choices(language: str) -> list:
    """Leaves grouped by product, for a keyboard-friendly <select>."""
    groups: dict[str, list[tuple[int, str]]] = {}
    leaves = Classification.objects.filter(is_leaf=True).order_by("display_name")
    for leaf in leaves:
        label = leaf.localized_display_name(language)
        product, _sep, rest = label.partition(" > ")
        groups.setdefault(product, []).append((leaf.pk, rest or label))
    return [("", _("Choose a category")), *groups.items()]


class CaseCreateForm(forms.Form):
    product_type = forms.ChoiceField(
        label=_("Product type"), choices=PRODUCT_TYPES, initial="GOOGLE_WORKSPACE"
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX_LENGTH,
        help_text=_("Describe the problem in one line."),
    )
    classification = forms.TypedChoiceField(label=_("Category"), coerce=int, choices=())
    description = forms.CharField(
        label=_("Case description"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What happened, since when, who is affected, and what you have tried."),
    )
    attachments = MultipleFileField(label=_("Attachments"))
    priority = forms.ChoiceField(
        label=_("Severity"),
        choices=[(p, p) for p in SEVERITY_MEANINGS],
        initial="P3",
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES)
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    follow_up_of = forms.IntegerField(widget=forms.HiddenInput, required=False)
    pii_confirmed = forms.BooleanField(
        label=_(
            "I have checked: the text contains no personal information, or it is needed to solve the problem."
        ),
        required=False,
    )

    def __init__(self, *args, language: str = "en", disabled: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["classification"].choices = classification_choices(language)
        self.classification = None
        if disabled:
            for name in ("product_type", "classification"):
                self.fields[name].disabled = True
        raw = self.data.get("classification") if self.is_bound else self.initial.get("classification")
        if raw and str(raw).isdigit():
            self.classification = Classification.objects.filter(pk=int(raw), is_leaf=True).first()
        for index, question in enumerate(self.classification.questions if self.classification else []):
            self.fields[f"answer_{index}"] = forms.CharField(
                label=question.get(language) or question["en"],
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"]
        if value not in KNOWN_TIME_ZONES:
            raise ValidationError(_("Choose a time zone from the list."))
        return value

    def answers(self) -> dict[str, str]:
        return {
            name.removeprefix("answer_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("answer_") and value
        }

    def answer_fields(self):
        return [self[name] for name in self.fields if name.startswith("answer_")]


class VersionedForm(forms.Form):
    """Carries the case version the user saw, so that a write over somebody else's newer
    change is refused instead of silently overwriting it."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class SeverityForm(VersionedForm):
    priority = forms.ChoiceField(label=_("Severity"), choices=Case.Priority.choices)


class StateForm(VersionedForm):
    state = forms.ChoiceField(label=_("Status"), choices=Case.State.choices)


class EscalateForm(VersionedForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=Case.EscalationReason.choices)
    justification = forms.CharField(
        label=_("Justification"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 5})
    )


class AttachmentForm(forms.Form):
    files = MultipleFileField(label=_("Attachments"), required=True)


class ShareForm(forms.Form):
    add = forms.CharField(
        label=_("Add user or group email addresses"),
        required=False,
        max_length=4000,
        help_text=_("Separate several addresses with commas or spaces."),
    )
    remove = forms.EmailField(required=False, widget=forms.HiddenInput)

    def clean_add(self) -> list[str]:
        raw = self.cleaned_data.get("add", "")
        emails = [part for part in raw.replace(",", " ").replace(";", " ").split() if part]
        if len(emails) > MAX_SUBSCRIBERS:
            raise ValidationError(
                _("A case can be shared with at most %(n)d addresses.") % {"n": MAX_SUBSCRIBERS}
            )
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                raise ValidationError(
                    _("“%(email)s” is not a valid email address.") % {"email": email[:100]}
                ) from None
        return emails


class DeleteAttachmentForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class SupportUpdateForm(VersionedForm):
    """The support engineer's one form on the case page: a reply or an internal note, the
    status, the severity and the assignee, sent together."""

    body = forms.CharField(
        label=_("Reply to the customer"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    internal = forms.BooleanField(
        label=_("Internal note (seen by the support team only; no mail)"), required=False
    )
    state = forms.ChoiceField(label=_("Status"), choices=Case.State.choices)
    priority = forms.ChoiceField(label=_("Severity"), choices=Case.Priority.choices)
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)

    def __init__(self, *args, case: Case, states, engineers, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("version", case.version)
        initial.setdefault("state", case.state)  # the current state, never the first option
        initial.setdefault("priority", case.priority)
        initial.setdefault("assignee", str(case.assignee_id or ""))
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [(case.state, Case.State(case.state).label)] + [
            (state, Case.State(state).label) for state in states if state != case.state
        ]
        self.fields["assignee"].choices = [("", _("Nobody (unassigned)"))] + [
            (str(pk), name or email) for pk, name, email in engineers
        ]
