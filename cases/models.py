"""Support cases and what hangs off them: comments, attachments, subscribers, the audit
trail, and the classification tree."""

import uuid

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Domain, Language, User
from customers.models import Customer

TITLE_MAX_LENGTH = 200
COMMENT_MAX_LENGTH = 12_800


class Classification(models.Model):
    """A node of the category tree ("Gmail > Email delivery > Messages delayed"). Leaves
    are what a case is filed under; each carries its guided questions."""

    code = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(max_length=120)
    name_ko = models.CharField(max_length=120)
    # "Gmail > Email delivery > Messages delayed", kept whole for keyword search and the API.
    display_name = models.CharField(max_length=400)
    display_name_ko = models.CharField(max_length=400)
    # [{"en": "...", "ko": "..."}, ...]; empty on inner nodes.
    questions = models.JSONField(default=list, blank=True)
    is_leaf = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="classification_unique_sibling")
        ]

    def __str__(self) -> str:
        return self.display_name

    def localized_display_name(self, language: str) -> str:
        return self.display_name_ko if language == "ko" else self.display_name


class WaitingOn(models.TextChoices):
    SUPPORT = "SUPPORT", _("Support")
    CUSTOMER = "CUSTOMER", _("Customer")


class Case(models.Model):
    WaitingOn = WaitingOn

    class State(models.TextChoices):
        NEW = "NEW", _("New")
        IN_PROGRESS_GOOGLE_SUPPORT = "IN_PROGRESS_GOOGLE_SUPPORT", _("In progress (support)")
        ACTION_REQUIRED = "ACTION_REQUIRED", _("Action required")
        SOLUTION_PROVIDED = "SOLUTION_PROVIDED", _("Solution provided")
        CLOSED = "CLOSED", _("Closed")

    class Priority(models.TextChoices):
        P0 = "P0", _("P0 – Critical (support only)")
        P1 = "P1", _("P1 – Critical impact")
        P2 = "P2", _("P2 – High impact")
        P3 = "P3", _("P3 – Medium impact")
        P4 = "P4", _("P4 – Low impact")

    class Channel(models.TextChoices):
        PORTAL = "PORTAL", _("Portal")
        DELEGATED = "DELEGATED", _("Delegated by reseller")
        API = "API", _("API")
        EMAIL = "EMAIL", _("Email")

    class EscalationReason(models.TextChoices):
        RESOLUTION_TIME = "RESOLUTION_TIME", _("Resolution time")
        TECHNICAL_EXPERTISE = "TECHNICAL_EXPERTISE", _("Technical expertise")
        BUSINESS_IMPACT = "BUSINESS_IMPACT", _("Business impact")

    number = models.BigIntegerField(unique=True, null=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cases")
    # The reseller domain that managed the customer when the case was filed (R4).
    managing_domain = models.ForeignKey(
        Domain, on_delete=models.PROTECT, null=True, blank=True, related_name="managed_cases"
    )
    creator = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="created_cases"
    )
    contact_email = models.EmailField(blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    classification = models.ForeignKey(Classification, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField()
    answers = models.JSONField(default=dict, blank=True)
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P3)
    state = models.CharField(max_length=32, choices=State.choices, default=State.NEW)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    time_zone = models.CharField(max_length=64, default="UTC")
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    escalation_reason = models.CharField(max_length=24, choices=EscalationReason.choices, blank=True)
    escalation_justification = models.TextField(blank=True, max_length=1000)
    assignee = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_cases"
    )
    first_response_at = models.DateTimeField(null=True, blank=True)
    # Who owes the next reply and since when, and the targets that follow from it
    # (`cases.lifecycle.case_due_times`): written by every service that changes the state,
    # the severity or the tier, or adds a reply, so that the queue sorts and filters on
    # indexed columns instead of computing targets for every row.
    waiting_on = models.CharField(
        max_length=8, choices=WaitingOn.choices, blank=True, default="", db_default=""
    )
    waiting_since = models.DateTimeField(null=True, blank=True)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    # Set while support owes a reply (the first one included); NULL otherwise.
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    follow_up_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    is_test = models.BooleanField(default=False)
    # Set by the submitting form or API client; a second submit with the same key returns
    # the case the first one created (double clicks, retries).
    request_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (NULL: unique only when set)
    # Bumped by every change; a write that names an older version is refused, so two
    # people editing at once never silently overwrite each other.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Written by the periodic jobs (cases.system_services). The rules themselves are decided
    # by time at request time; these record that the job acted, so it acts once.
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    next_response_breached_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    # Title, description and every comment, kept by PostgreSQL triggers (migration 0003)
    # and indexed with GIN; unused (NULL) on the SQLite demo database.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "NEW",
                        "IN_PROGRESS_GOOGLE_SUPPORT",
                        "ACTION_REQUIRED",
                        "SOLUTION_PROVIDED",
                        "CLOSED",
                    ]
                ),
                name="case_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=["P0", "P1", "P2", "P3", "P4"]), name="case_priority_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["PORTAL", "DELEGATED", "API", "EMAIL"]), name="case_channel_valid"
            ),
            models.CheckConstraint(condition=Q(language__in=Language.values), name="case_language_valid"),
            # closed ⇔ closed_at
            models.CheckConstraint(
                condition=(Q(state="CLOSED") & Q(closed_at__isnull=False))
                | (~Q(state="CLOSED") & Q(closed_at__isnull=True)),
                name="case_closed_iff_closed_at",
            ),
            # An escalation is recorded whole or not at all.
            models.CheckConstraint(
                condition=(
                    Q(escalated_at__isnull=True, escalation_reason="", escalation_justification="")
                    | (
                        Q(escalated_at__isnull=False)
                        & Q(
                            escalation_reason__in=[
                                "RESOLUTION_TIME",
                                "TECHNICAL_EXPERTISE",
                                "BUSINESS_IMPACT",
                            ]
                        )
                        & ~Q(escalation_justification="")
                    )
                ),
                name="case_escalation_complete",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("title"), TITLE_MAX_LENGTH), name="case_title_max_length"
            ),
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("title")), 0), name="case_title_not_blank"
            ),
            models.UniqueConstraint(
                fields=["creator", "request_key"],
                condition=Q(request_key__isnull=False),
                name="case_request_key_unique",
            ),
            # A delegated case always names the reseller domain it was filed through.
            models.CheckConstraint(
                condition=~Q(channel="DELEGATED") | Q(managing_domain__isnull=False),
                name="case_delegated_has_domain",
            ),
        ]
        indexes = [
            models.Index(fields=["managing_domain", "-updated_at", "-id"], name="case_domain_updated_idx"),
            models.Index(fields=["customer", "-updated_at", "-id"], name="case_customer_updated_idx"),
            models.Index(fields=["-updated_at", "-id"], name="case_updated_idx"),
            # The other orders of the case lists (issue 12), each a keyset (key, id) for a
            # domain, a customer and support's all-cases view. A B-tree serves both directions.
            models.Index(fields=["managing_domain", "-created_at", "-id"], name="case_domain_created_idx"),
            models.Index(fields=["customer", "-created_at", "-id"], name="case_customer_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="case_created_idx"),
            models.Index(fields=["managing_domain", "priority", "id"], name="case_domain_priority_idx"),
            models.Index(fields=["customer", "priority", "id"], name="case_customer_priority_idx"),
            models.Index(fields=["priority", "id"], name="case_priority_idx"),
            models.Index(fields=["managing_domain", "number"], name="case_domain_number_idx"),
            models.Index(fields=["customer", "number"], name="case_customer_number_idx"),
            models.Index(fields=["customer", "id"], name="case_customer_id_idx"),
            models.Index(
                fields=["state", "assignee"], condition=~Q(state="CLOSED"), name="case_open_queue_idx"
            ),
            # The bounded counts per state of every case list: read from the index alone
            # (no table rows), in filing order so that each domain's cases are spread
            # evenly through it (docs/performance.md).
            models.Index(
                fields=["state"],
                include=["managing_domain", "customer", "created_at", "priority"],
                name="case_state_cover_idx",
            ),
            # The same counts within one customer (the customer filter, a customer's page).
            models.Index(
                fields=["customer", "state"],
                include=["managing_domain", "created_at", "priority"],
                name="case_customer_state_cover_idx",
            ),
            # Lists filtered by state and severity, within one customer or one domain:
            # already in list order, so a page reads 26 rows (docs/performance.md).
            models.Index(
                fields=["customer", "state", "priority", "-updated_at", "-id"],
                name="case_customer_state_prio_idx",
            ),
            models.Index(
                fields=["managing_domain", "state", "priority", "-updated_at", "-id"],
                name="case_domain_state_prio_idx",
            ),
            # The dashboard's unanswered cases of the last two days (cases.dashboard_selectors).
            models.Index(
                fields=["created_at"], condition=Q(first_response_at__isnull=True), name="case_unanswered_idx"
            ),
            # What the periodic jobs look for, kept small by their conditions.
            models.Index(
                fields=["closed_at"],
                condition=Q(state="CLOSED", locked_at__isnull=True),
                name="case_closed_unlocked_idx",
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(first_response_at__isnull=True, first_response_breached_at__isnull=True)
                & ~Q(state="CLOSED"),
                name="case_awaiting_response_idx",
            ),
            # The support queue: what support owes, soonest target first ("awaiting support"
            # and the default sort), and the next-response breach job.
            models.Index(
                fields=["next_response_due_at", "id"],
                condition=Q(next_response_due_at__isnull=False),
                name="case_next_response_due_idx",
            ),
            models.Index(
                fields=["assignee", "next_response_due_at", "id"],
                condition=Q(next_response_due_at__isnull=False),
                name="case_assignee_due_idx",
            ),
            # The default queue order starts with what nobody has taken yet.
            models.Index(
                fields=["next_response_due_at", "id"],
                condition=Q(next_response_due_at__isnull=False, assignee__isnull=True),
                name="case_unassigned_due_idx",
            ),
            models.Index(
                fields=["priority", "id"], condition=~Q(state="CLOSED"), name="case_open_priority_idx"
            ),
            # "Awaiting support, P1": what support owes on the chosen severity, by target.
            models.Index(
                fields=["priority", "next_response_due_at", "id"],
                condition=Q(next_response_due_at__isnull=False),
                name="case_priority_due_idx",
            ),
            models.Index(
                fields=["-created_at", "-id"], condition=Q(is_test=False), name="case_queue_created_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state != self.State.CLOSED

    @property
    def is_escalated(self) -> bool:
        return self.escalated_at is not None


class Comment(models.Model):
    """A message on a case; an internal note when `internal` (R11: the support
    organisation alone sees it, `cases.selectors.case_comments_for` is where that is
    decided)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Who wrote it when there is no account (a subscriber replying by mail).
    author_email = models.EmailField(blank=True)
    from_support = models.BooleanField(default=False)
    internal = models.BooleanField(default=False, db_default=False)
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="comment_case_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), COMMENT_MAX_LENGTH), name="comment_body_max_length"
            ),
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("body")), 0), name="comment_body_not_blank"
            ),
            # Only the support organisation writes internal notes.
            models.CheckConstraint(
                condition=Q(internal=False) | Q(from_support=True), name="comment_internal_from_support"
            ),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on case {self.case_id}"


def attachment_upload_to(instance: "Attachment", filename: str) -> str:
    # Generated names only: the user's filename is metadata, never a path.
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_to, max_length=200, blank=True)
    filename = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploader = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    deletion_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="attachment_case_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True, deleted_by__isnull=True, deletion_reason="")
                | (Q(deleted_at__isnull=False, deleted_by__isnull=False) & ~Q(deletion_reason="")),
                name="attachment_deletion_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def pending_upload_to(instance: "PendingUpload", filename: str) -> str:
    # The same generated names as attachments: a pending file becomes an attachment by
    # handing its stored name over, without copying it.
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class PendingUpload(models.Model):
    """A file chosen on a form that came back with an error (or a confirmation), already
    checked and stored, waiting for the final submit to attach it. Only its owner can
    use it; the periodic job removes it after PENDING_UPLOAD_HOURS."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=pending_upload_to, max_length=200)
    filename = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["owner", "created_at"], name="pending_upload_owner_idx")]

    def __str__(self) -> str:
        return self.filename


class CaseSubscriber(models.Model):
    """An email address the case is shared with (R7: mail only, never access)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="subscribers")
    email = models.EmailField()
    added_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["case", "email"], name="case_subscriber_unique")]

    def __str__(self) -> str:
        return self.email


class CaseEvent(models.Model):
    """Append-only audit of every change to a case: who, what, before, after, when. On
    PostgreSQL a trigger refuses UPDATE and DELETE."""

    class Kind(models.TextChoices):
        CREATED = "CREATED", _("Case filed")
        COMMENTED = "COMMENTED", _("Message")
        STATE_CHANGED = "STATE_CHANGED", _("State changed")
        PRIORITY_CHANGED = "PRIORITY_CHANGED", _("Severity changed")
        ESCALATED = "ESCALATED", _("Escalated")
        ATTACHMENT_ADDED = "ATTACHMENT_ADDED", _("Attachment added")
        ATTACHMENT_DELETED = "ATTACHMENT_DELETED", _("Attachment deleted")
        SUBSCRIBER_ADDED = "SUBSCRIBER_ADDED", _("Shared with")
        SUBSCRIBER_REMOVED = "SUBSCRIBER_REMOVED", _("No longer shared with")
        ASSIGNED = "ASSIGNED", _("Assigned")
        # Support-only (R11): never shown, counted or mailed to the customer side.
        NOTE_ADDED = "NOTE_ADDED", _("Internal note")
        UPDATED = "UPDATED", _("Updated")
        # Written by the periodic jobs (cases.system_services).
        AUTO_CLOSE_REMINDER = "AUTO_CLOSE_REMINDER", _("Reminder before automatic closing")
        FIRST_RESPONSE_BREACHED = "FIRST_RESPONSE_BREACHED", _("First-response target missed")
        NEXT_RESPONSE_BREACHED = "NEXT_RESPONSE_BREACHED", _("Next-response target missed")
        LOCKED = "LOCKED", _("Locked")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_email = models.EmailField(blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    field = models.CharField(max_length=40, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The events one submit wrote (a reply with a state and a severity change) share a
    # group, so that the mail about them is one mail per recipient.
    group = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="case_event_case_created_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"


# --------------------------------------------------------------------------- support console


class SavedQueueView(models.Model):
    """A support engineer's named queue filter (the query string of /support/)."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_queue_views")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_queue_view_unique_name")]

    def __str__(self) -> str:
        return self.name


class CannedReply(models.Model):
    """A reply text support engineers start from, in one language, with placeholders
    ({customer}, {case_number}, {requester}). Managed by support leads."""

    title = models.CharField(max_length=120)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["language", "title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["language", "title"], name="canned_reply_unique_title"),
            models.CheckConstraint(
                condition=Q(language__in=Language.values), name="canned_reply_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CaseRollup(models.Model):
    """Running counts of cases for the dashboard, kept by a PostgreSQL trigger on
    cases_case in the same transaction as every change (cases/rollups.py), so the
    dashboard sums a few thousand rows instead of counting a domain's cases. One row per
    (kind, customer, managing domain, day, state, priority), see `Kind`, and the same per
    managing domain alone (customer NULL). Test cases are not counted. Unused on the
    SQLite demo database (the dashboard counts cases there)."""

    class Kind(models.TextChoices):
        OPEN = "S", "open cases by state and severity"
        OPEN_UNANSWERED = "U", "open, unanswered cases by severity and day filed"
        FILED = "C", "cases by day filed"
        CLOSED = "X", "closed cases by day closed"
        UNANSWERED = "N", "unanswered cases by day filed"
        ANSWERED_LATE = "L", "cases first answered after their target, by day filed"

    kind = models.CharField(max_length=1, choices=Kind.choices)
    # NULL: the row sums every customer of the managing domain.
    # (The composite indexes below lead with each of the two keys.)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, related_name="+", db_index=False
    )
    managing_domain = models.ForeignKey(
        Domain, on_delete=models.CASCADE, null=True, related_name="+", db_index=False
    )
    day = models.DateField(null=True)  # UTC
    state = models.CharField(max_length=32, blank=True)
    priority = models.CharField(max_length=2, blank=True)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "customer", "managing_domain", "day", "state", "priority"],
                name="case_rollup_key",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(
                fields=["managing_domain", "customer", "kind", "day"], name="case_rollup_domain_idx"
            ),
            models.Index(fields=["customer", "kind", "day"], name="case_rollup_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id}/{self.managing_domain_id} {self.day} {self.state} {self.priority}: {self.n}"
