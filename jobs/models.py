"""Long work a person starts (a large export today; imports and bulk actions later): one
row per job, what it was asked to do, how far it got, and the file it made.

Only the person who started a job sees it (jobs.selectors.job_visible_to); the work itself
re-reads everything through the visibility functions of the models it touches."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class Job(models.Model):
    class Kind(models.TextChoices):
        CASE_EXPORT = "case_export", _("Case export")

    class Status(models.TextChoices):
        QUEUED = "QUEUED", _("Waiting to start")
        RUNNING = "RUNNING", _("Running")
        DONE = "DONE", _("Ready")
        FAILED = "FAILED", _("Failed")
        EXPIRED = "EXPIRED", _("Expired")

    # Random, so that a job's address says nothing about how many there are.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="jobs", verbose_name=_("user"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    # What was asked, as it was at the moment of the request (e.g. the list's filters).
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    message = models.TextField(_("message"), blank=True)
    # The result: a file in Django's storage, its download name, and how many rows it holds.
    file_name = models.CharField(_("file"), max_length=300, blank=True)
    download_name = models.CharField(_("download name"), max_length=200, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    size = models.PositiveBigIntegerField(_("size"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # Written with every progress step: a running job whose heartbeat stops was lost.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["QUEUED", "RUNNING", "DONE", "FAILED", "EXPIRED"]),
                name="job_status_valid",
            ),
            # A finished job offers a file only with its row count: never a file of unknown size.
            models.CheckConstraint(
                condition=~Q(status="DONE") | (Q(row_count__isnull=False) & ~Q(file_name="")),
                name="job_done_has_file_and_count",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="job_user_created_idx"),
            models.Index(fields=["status", "expires_at"], name="job_status_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.done * 100 / self.total))
