"""The case list's filters, read from the query string so that every filtered view is a
link: /cases/?q=mail&state=OPEN&priority=P1&priority=P2&customer=3&escalated=true."""

from html import escape

import django_filters
from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import Language
from cases.models import Case
from cases.selectors import DEFAULT_SORT, OPEN, QueueFilters, case_keyword_filter
from customers.models import SupportTier
from portal.validation import parse_id

STATE_CHOICES = [(OPEN, _("Open (all but closed)")), *Case.State.choices]
PRIORITY_CHOICES = [(p, p) for p in Case.Priority.values]
# The orders of a case list (cases.selectors.SORT_KEYS), each with its keyset.
SORT_CHOICES = [
    ("-updated", _("Last update, newest first")),
    ("updated", _("Last update, oldest first")),
    ("-created", _("Created, newest first")),
    ("created", _("Created, oldest first")),
    ("severity", _("Severity, highest first")),
    ("-severity", _("Severity, lowest first")),
    ("customer", _("Customer, A to Z")),
    ("-customer", _("Customer, Z to A")),
    ("-number", _("Case number, highest first")),
    ("number", _("Case number, lowest first")),
]
CUSTOMER_OPTIONS = 100


class BoundedCustomerSelect(forms.Select):
    """The customer <select>, bounded: the first CUSTOMER_OPTIONS customers by name and the
    chosen one, never all of them (a big domain has thousands: rendering them all cost
    most of the page, docs/performance.md). The page's search box fetches other
    customers into it (cases:customer_options). Two queries at most, whatever the size.
    The options are written directly: a template per option cost 10 ms for a hundred."""

    def render(self, name, value, attrs=None, renderer=None):
        iterator = self.choices
        field, names = iterator.field, iterator.queryset.values_list("pk", "name")
        chosen = [parse_id(v) for v in self.format_value(value) if parse_id(v) is not None]
        rows = list(names[:CUSTOMER_OPTIONS])
        if chosen:
            rows = list(names.filter(pk__in=chosen)) + [row for row in rows if row[0] not in chosen]
        # html.escape: Django's escaping without its lazy-string wrapper (a hundred names).
        options = mark_safe(
            "\n".join(
                [f'<option value=""{"" if chosen else " selected"}>{escape(str(field.empty_label))}</option>']
                + [
                    f'<option value="{pk}"{" selected" if pk in chosen else ""}>{escape(name)}</option>'
                    for pk, name in rows
                ]
            )
        )
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>\n{}\n</select>', name, flatatt(final_attrs), options)


class InlineCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes, each inside its label, written directly: the list page renders eleven
    of them, and a template per checkbox (three with the attributes) cost several
    milliseconds of every page (docs/performance.md)."""

    def render(self, name, value, attrs=None, renderer=None):
        checked = {str(v) for v in self.format_value(value)}
        base_id = self.build_attrs(self.attrs, attrs).get("id", f"id_{name}")
        return format_html_join(
            "",
            '<label class="checkbox"><input type="checkbox" name="{}" value="{}" id="{}_{}"{}> {}</label>',
            (
                (name, choice, base_id, index, mark_safe(" checked") if str(choice) in checked else "", label)
                for index, (choice, label) in enumerate(self.choices)
            ),
        )


class AnyYesNo(django_filters.widgets.BooleanWidget):
    """Escalated: "Any" when unset (django-filter says "Unknown", which reads as a value)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", _("Any")), ("true", _("Yes")), ("false", _("No")))


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Keyword"),
        method="filter_keyword",
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Title, description, messages or number")}
        ),
    )
    state = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=STATE_CHOICES, method="filter_state", widget=InlineCheckboxes
    )
    # distinct=False: a column of the case itself cannot duplicate rows, and DISTINCT over
    # every column (search vector included) cost seconds at a million cases.
    priority = django_filters.MultipleChoiceFilter(
        label=_("Severity"), choices=PRIORITY_CHOICES, widget=InlineCheckboxes, distinct=False
    )
    escalated = django_filters.BooleanFilter(label=_("Escalated"), method="filter_escalated", widget=AnyYesNo)
    # Not a filter: the order of the rows, read by the view (cases.selectors.case_page).
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"), choices=SORT_CHOICES, method="keep", empty_label=None, null_label=None
    )
    updated_after = django_filters.DateFilter(
        label=_("Updated from"),
        field_name="updated_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    updated_before = django_filters.DateFilter(
        label=_("Updated until"),
        field_name="updated_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def __init__(self, *args, customers=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only customers the user may see can be chosen (R1); the list is the caller's.
        if customers is not None:
            self.filters["customer"] = django_filters.ModelChoiceFilter(
                label=_("Customer"),
                queryset=customers,
                field_name="customer",
                empty_label=_("All customers"),
                widget=BoundedCustomerSelect,
            )

    def keep(self, queryset, name, value):
        return queryset

    @property
    def order(self) -> str:
        """The chosen order (cases.selectors.SORTS), the default when none or invalid."""
        if self.is_bound and self.is_valid():
            return self.form.cleaned_data.get("sort") or DEFAULT_SORT
        return DEFAULT_SORT

    def filter_keyword(self, queryset, name, value):
        return case_keyword_filter(queryset, value)

    def filter_state(self, queryset, name, values):
        if not values:
            return queryset
        states = {state for state in values if state != OPEN}
        if OPEN in values:
            states |= {state for state in Case.State.values if state != Case.State.CLOSED}
        return queryset.filter(state__in=states)

    def filter_escalated(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(escalated_at__isnull=not value)


# --------------------------------------------------------------------------- the support queue

ASSIGNEE_SPECIAL = [("", _("Anyone")), ("me", _("Me")), ("nobody", _("Nobody (unassigned)"))]
SORT_CHOICES = [
    ("due", _("Reply due (soonest first)")),
    ("-updated", _("Last update (newest first)")),
    ("updated", _("Last update (oldest first)")),
    ("-created", _("Filed (newest first)")),
    ("created", _("Filed (oldest first)")),
    ("priority", _("Severity (highest first)")),
]


class QueueFilterForm(forms.Form):
    """The support queue's filters, all in the query string so that every view is a link
    and can be saved: /support/?awaiting=support&priority=P1&assignee=me&sort=due."""

    q = forms.CharField(
        label=_("Keyword"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Title, description, messages or number")}
        ),
    )
    awaiting = forms.ChoiceField(
        label=_("Awaiting support"),
        required=False,
        choices=[("", _("Any")), ("support", _("Awaiting support"))],
    )
    state = forms.MultipleChoiceField(
        label=_("Status"), required=False, choices=STATE_CHOICES, widget=InlineCheckboxes
    )
    priority = forms.MultipleChoiceField(
        label=_("Severity"), required=False, choices=PRIORITY_CHOICES, widget=InlineCheckboxes
    )
    tier = forms.MultipleChoiceField(
        label=_("Support tier"), required=False, choices=SupportTier.choices, widget=InlineCheckboxes
    )
    language = forms.MultipleChoiceField(
        label=_("Language"), required=False, choices=Language.choices, widget=InlineCheckboxes
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        required=False,
        queryset=None,
        empty_label=_("All customers"),
        widget=BoundedCustomerSelect,
    )
    domain = forms.ModelChoiceField(
        label=_("Reseller domain"),
        required=False,
        queryset=None,
        empty_label=_("All reseller domains"),
        widget=BoundedCustomerSelect,
    )
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)
    escalated = forms.ChoiceField(
        label=_("Escalated"),
        required=False,
        choices=[("", _("Any")), ("true", _("Escalated")), ("false", _("Not escalated"))],
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, customers, domains, engineers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["domain"].queryset = domains
        self.fields["assignee"].choices = ASSIGNEE_SPECIAL + [
            (str(pk), name or email) for pk, name, email in engineers
        ]

    @staticmethod
    def default_filters() -> QueueFilters:
        return QueueFilters(states=(OPEN,))

    def filters(self, *, default_open: bool) -> QueueFilters:
        data = self.cleaned_data
        states = tuple(data.get("state") or ())
        if not states and default_open:
            states = (OPEN,)
        escalated = {"true": True, "false": False}.get(data.get("escalated") or "")
        return QueueFilters(
            states=states,
            priorities=tuple(data.get("priority") or ()),
            tiers=tuple(data.get("tier") or ()),
            languages=tuple(data.get("language") or ()),
            customer_id=data["customer"].pk if data.get("customer") else None,
            domain_id=data["domain"].pk if data.get("domain") else None,
            assignee=data.get("assignee") or "",
            escalated=escalated,
            awaiting_support=data.get("awaiting") == "support",
            q=data.get("q") or "",
        )


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("assign", _("Assign to")),
            ("state", _("Set status")),
            ("priority", _("Set severity")),
            ("note", _("Add an internal note")),
        ],
    )
    assignee = forms.CharField(required=False, max_length=20)
    state = forms.ChoiceField(required=False, choices=[("", "—"), *Case.State.choices])
    priority = forms.ChoiceField(required=False, choices=[("", "—"), *Case.Priority.choices])
    note = forms.CharField(required=False, max_length=12_800, widget=forms.Textarea(attrs={"rows": 2}))
