"""What a clinic alert says: the e-mail, and the webhook's signed JSON. That something arrived
and where to read it, never what it says (app/services/alerts.py, the outbox, says why)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app import codec
from app.services import mail
from app.services.alerts import Claim
from app.services.text import one_line

WEBHOOK_EVENT: Final = "submission.urgent"
CHECKIN_WEBHOOK_EVENT: Final = "checkin.urgent"


def dashboard_url(public_url: str, assessment_id: uuid.UUID) -> str:
    return f"{public_url.rstrip('/')}/staff/assessments/{assessment_id}"


def email_message(
    claim: Claim, *, level_label: str, sender: str, public_url: str, now: datetime
) -> EmailMessage:
    """The alert e-mail: that a submission arrived, its level, when, and where to read it.
    ``now``: when it is sent (its Date), by the sender's clock."""
    when = local_time(claim.submitted_at, claim.time_zone)
    # A name stored before names were checked may hold a line break: in a header that breaks
    # every alert of the clinic (email refuses it), so it goes as one line.
    clinic_name = one_line(claim.clinic_name)
    message = mail.new_message(
        subject=f"{level_label} {claim.what} for {clinic_name}",
        sender=sender,
        to=claim.email or "",
        now=now,
    )
    message.set_content(
        f"A {claim.what} marked {level_label} arrived for {clinic_name} at {when}.\n"
        "\n"
        "Read it on the dashboard (staff sign-in needed):\n"
        f"{dashboard_url(public_url, claim.assessment_id)}\n"
        "\n"
        "This e-mail holds no details of the submission, on purpose.\n"
        "The clinic's admins choose where these alerts go, on the Alerts page.\n"
    )
    return message


def local_time(moment: datetime, time_zone: str) -> str:
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone, time_zone = ZoneInfo("UTC"), "UTC"
    return f"{moment.astimezone(zone):%H:%M on %d %b %Y} ({time_zone})"


def webhook_body(claim: Claim, *, public_url: str) -> bytes:
    """The webhook's JSON: what happened and where, nothing of the submission beyond its
    level."""
    body: dict[str, Any] = {
        "event": WEBHOOK_EVENT if claim.checkin_id is None else CHECKIN_WEBHOOK_EVENT,
        "assessment_id": str(claim.assessment_id),
        "level": claim.level,
        "created_at": claim.submitted_at.astimezone(UTC).isoformat(timespec="seconds"),
        "url": dashboard_url(public_url, claim.assessment_id),
    }
    if claim.checkin_id is not None:
        body["checkin_id"] = str(claim.checkin_id)
    return codec.dumps(body)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Backaudit-Signature header: HMAC-SHA256 of "<timestamp>.<body>" with the clinic's
    webhook secret (README, Clinic alerts, shows a receiver's check)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
