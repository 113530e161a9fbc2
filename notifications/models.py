"""The mail outbox and the log of mail received for cases.

An `OutboxMessage` is one mail to one recipient about one case event. It is written in
the same transaction as the event, so a change and the mail about it are committed
together or not at all; Celery only carries the row's id. `InboundMail` records every
mail that arrived at a reply address and what became of it."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases.models import Case, CaseEvent, Comment


class Notice(models.TextChoices):
    """Which mail an event makes (each has a template pair in templates/notifications/)."""

    FILED = "filed", _("Case filed")
    SHARED = "shared", _("Case shared")
    REPLY = "reply", _("Support reply")
    STATE = "state", _("State changed")
    CLOSED = "closed", _("Case closed")
    AUTO_CLOSED = "auto_closed", _("Case closed automatically")
    REOPENED = "reopened", _("Case reopened")
    SEVERITY = "severity", _("Severity changed")
    ESCALATED = "escalated", _("Case escalated")
    REMINDER = "reminder", _("Reminder before automatic closing")
    BREACH = "breach", _("First-response target missed")
    # To support: a customer-side message on a case assigned to the recipient.
    CUSTOMER_REPLY = "customer_reply", _("Customer replied")
    # Not about a case: a background job (a large export) is ready (notifications.job_mail).
    JOB_READY = "job_ready", _("Export ready")
    # Mail about a domain rather than a case (notifications/notice_services.py).
    CONSENT_OFF = "consent_off", _("Reseller access turned off")


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pending")
        SENT = "SENT", _("Sent")
        FAILED = "FAILED", _("Failed")
        SKIPPED = "SKIPPED", _("Not sent: recipient no longer allowed")

    class Reason(models.TextChoices):
        CREATOR = "creator", _("filed the case")
        CONTACT = "contact", _("is the case contact")
        SUBSCRIBER = "subscriber", _("the case is shared with this address")
        # The support side (SPEC §6, issue 13): the engineer the case is assigned to, and the
        # support address that takes escalations of unassigned cases.
        ASSIGNEE = "assignee", _("is assigned to the case")
        SUPPORT = "support", _("receives escalations of unassigned cases")
        REQUESTER = "requester", _("asked for the export")
        SUPER_ADMIN = "super_admin", _("is a super admin of the domain")

    # A mail about a case names its event and case; a mail about a background job (its
    # file is ready) names the job instead.
    event = models.ForeignKey(CaseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("job")
    )
    # What a mail about a domain says (its template's context), e.g. the customer and when.
    details = models.JSONField(_("details"), default=dict, blank=True)
    notice = models.CharField(_("mail"), max_length=16, choices=Notice.choices)
    recipient_email = models.EmailField(_("to"))
    # Set for a portal user (creator, contact with an account): they get mail only while
    # `case_visible_to` lets them see the case, checked again just before sending.
    # Empty for a subscriber, who gets mail while the case is shared with the address (R7).
    recipient_user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("user")
    )
    reason = models.CharField(_("why"), max_length=12, choices=Reason.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Fixed when the row is written, so that every attempt sends the same Message-ID. The
    # filing mail carries the case's thread id (the same for each of its recipients); every
    # later mail answers it with In-Reply-To and References, so mail clients thread them.
    # Rows of one case to one address written within NOTIFICATION_COALESCE_SECONDS share
    # the Message-ID of the first: (message_id, recipient_email) is one mail, sent once,
    # listing every change (see notifications.services).
    message_id = models.CharField(_("Message-ID"), max_length=250)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # When the next attempt is due; the sweep queues rows overdue by OUTBOX_SWEEP_AGE_SECONDS.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_queued_at = models.DateTimeField(_("last queued by the sweep"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")
        constraints = [
            # One mail per (event, recipient), whatever happens to the tasks.
            models.UniqueConstraint(fields=["event", "recipient_email"], name="outbox_once_per_recipient"),
            models.UniqueConstraint(fields=["job", "recipient_email"], name="outbox_job_once_per_recipient"),
            models.CheckConstraint(
                condition=Q(job__isnull=True, event__isnull=False, case__isnull=False)
                | Q(job__isnull=False, event__isnull=True, case__isnull=True)
                # a mail about a domain (reseller access turned off): neither
                | Q(notice="consent_off", job__isnull=True, event__isnull=True, case__isnull=True),
                name="outbox_about_a_case_or_a_job",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["PENDING", "SENT", "FAILED", "SKIPPED"]), name="outbox_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="SENT", sent_at__isnull=False)
                | (~Q(status="SENT") & Q(sent_at__isnull=True)),
                name="outbox_sent_iff_sent_at",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="PENDING"), name="outbox_pending_due_idx"
            ),
            models.Index(fields=["status", "-created_at"], name="outbox_status_created_idx"),
            # The open mail of a case to an address, and the rows of one mail.
            models.Index(
                fields=["case", "recipient_email"],
                condition=Q(status="PENDING"),
                name="outbox_pending_case_to_idx",
            ),
            models.Index(fields=["message_id", "recipient_email"], name="outbox_mail_rows_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_notice_display()} → {self.recipient_email} ({self.status})"


class InboundMail(models.Model):
    """One mail received at a reply address. (Message-ID, reply address) is unique, so a
    mail that the sending server delivers twice becomes at most one comment."""

    class Outcome(models.TextChoices):
        ACCEPTED = "ACCEPTED", _("Added to the case")
        REFUSED = "REFUSED", _("Refused")
        IGNORED = "IGNORED", _("Ignored (automatic mail)")

    message_id = models.CharField(_("Message-ID"), max_length=250)
    sender = models.CharField(_("from"), max_length=254, blank=True)
    recipient = models.CharField(_("to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("case")
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("comment")
    )
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("received mail")
        verbose_name_plural = _("received mail")
        constraints = [
            models.UniqueConstraint(fields=["message_id", "recipient"], name="inbound_once_per_address"),
            models.CheckConstraint(
                condition=Q(outcome__in=["ACCEPTED", "REFUSED", "IGNORED"]), name="inbound_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender} → {self.recipient}: {self.outcome}"


class JobRun(models.Model):
    """That a periodic job has run here before. On its first run a job mails nothing about
    what fell due longer than JOB_FIRST_RUN_LOOKBACK_SECONDS ago (a fresh install or the
    demo data starts quiet); later runs mail everything they find."""

    name = models.CharField(_("job"), max_length=80, primary_key=True)
    first_run_at = models.DateTimeField(_("first run"), default=timezone.now)
    last_run_at = models.DateTimeField(_("last run"), default=timezone.now)

    class Meta:
        verbose_name = _("periodic job run")
        verbose_name_plural = _("periodic job runs")

    def __str__(self) -> str:
        return self.name


class OutboxHandoff(models.Model):
    """One attempt's handoff to the SMTP server, written by a connection of its own so that
    it outlives the worker (notifications.mail): `handed_at` right before the DATA command,
    `accepted_at` the moment the server answers 250. A replayed attempt that finds
    `accepted_at` is not sent again (docs/notifications.md). Deleted once the outbox row is
    SENT. No foreign key: the outbox row is locked by the sending transaction."""

    outbox_id = models.BigIntegerField()
    attempt_key = models.CharField(max_length=64)
    message_id = models.CharField(_("Message-ID"), max_length=250, blank=True)
    handed_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mail handed to the SMTP server")
        verbose_name_plural = _("mail handed to the SMTP server")
        constraints = [
            models.UniqueConstraint(fields=["outbox_id", "attempt_key"], name="outbox_handoff_once")
        ]

    def __str__(self) -> str:
        return f"outbox {self.outbox_id} handed at {self.handed_at}"
