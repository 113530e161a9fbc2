"""Mail about a domain rather than a case, through the same outbox (written in the
caller's transaction, sent after commit by the same task, retried the same way). Today:
the super admins of a reseller domain learn that a customer turned its access to support
cases off — otherwise nobody on the reseller side would know why the cases vanished."""

import secrets

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from accounts.models import AdminRole, User
from notifications.mail import outbox_email
from notifications.models import Notice, OutboxMessage
from notifications.services import outbox_enqueue
from portal.when import zone_or_utc


def _super_admins(domain_id: int) -> list[User]:
    return list(
        User.objects.filter(
            domain_id=domain_id,
            is_active=True,
            role_assignments__role__builtin=AdminRole.BuiltIn.SUPER_ADMIN,
        ).distinct()
    )


def outbox_write_consent_off(*, customer, domain, changed_at, changed_by: User | None) -> list[OutboxMessage]:
    """One mail to each super admin of `domain` saying that `customer` turned access to
    support cases off, when and by whom. Call inside the transaction of the change."""
    details = {
        "customer_id": customer.pk,
        "customer_name": customer.name,
        "domain_name": domain.name,
        "changed_at": changed_at.isoformat(),
        "changed_by": changed_by.email if changed_by else "",
    }
    rows = [
        OutboxMessage.objects.create(
            notice=Notice.CONSENT_OFF,
            recipient_email=admin.mail_address,
            recipient_user=admin,
            reason=OutboxMessage.Reason.SUPER_ADMIN,
            details=details,
            message_id=f"<consent-{customer.pk}.{domain.pk}.{secrets.token_hex(6)}@{settings.REPLY_EMAIL_DOMAIN}>",
            created_at=changed_at,
            next_attempt_at=changed_at,
        )
        for admin in _super_admins(domain.pk)
    ]
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(lambda: outbox_enqueue(ids))
    return rows


def render_domain_notice(row: OutboxMessage) -> EmailMultiAlternatives:
    user = row.recipient_user
    language = (user.language if user else "") or settings.LANGUAGE_CODE
    zone = zone_or_utc(user.time_zone if user else None)
    with translation.override(language), timezone.override(zone):
        context = {
            **row.details,
            "changed_at": parse_datetime(row.details.get("changed_at", "")),
            "customer_url": settings.SITE_URL.rstrip("/")
            + reverse("customers:detail", args=[row.details.get("customer_id", 0)]),
            "recipient": row.recipient_email,
        }
        subject = render_to_string(f"notifications/{row.notice}_subject.txt", context).strip()
        text = render_to_string(f"notifications/{row.notice}.txt", context)
        html = render_to_string(f"notifications/{row.notice}.html", context)
    return outbox_email(row, subject=subject, text=text, html=html, language=language)
