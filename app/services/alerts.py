"""Clinic alerts: when an emergency or urgent submission arrives for a clinic, its alert address
gets an e-mail, and its webhook (if it has one) a signed POST. So does a follow-up check-in of
one of its submissions that finds a warning sign.

An outbox. ``queue`` writes one Alert row per way of telling the clinic, in the submission's
own transaction (assessments.record calls it), so a submission that was acknowledged cannot
lose its alert, and one that was not stored has none. app/services/alert_delivery.py sends them
after the commit, off the request: the person never waits for a mail server or a webhook.

What is sent says that something arrived and where to read it, never what it says: the clinic's
name, the level's staff label (e.g. "Urgent"), the time and a link to the dashboard, which
needs a staff sign-in. No answers, no reasons, no patient name or reference.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Final
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Row, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from app import codec
from app.i18n import gettext
from app.models import Alert, AlertAttempt, Assessment, Checkin, Clinic
from app.security import new_token
from app.services import mail, webhook_addresses
from app.services.text import control_character_problem, one_line
from app.services.webhook_addresses import Network

# After a failed attempt the next waits twice as long: 15 s, 30 s, 1 min... up to 15 min; after
# the tenth the alert is marked failed (about an hour of trying), and the page says so.
FIRST_RETRY: Final = timedelta(seconds=15)
LONGEST_RETRY: Final = timedelta(minutes=15)
MAX_ATTEMPTS: Final = 10
# A claimed alert is not due again for this long: another sender leaves it alone meanwhile, and
# if this process dies while sending, it is tried again afterwards.
CLAIM_LEASE: Final = timedelta(minutes=5)
WEBHOOK_EVENT: Final = "submission.urgent"
CHECKIN_WEBHOOK_EVENT: Final = "checkin.urgent"
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a label, not a secret
# In Session.info when the transaction queued an alert: after its commit the sender is woken.
QUEUED: Final = "alerts_queued"
MAX_URL_LENGTH: Final = 2000  # what Clinic.webhook_url holds
MAX_EMAIL_LENGTH: Final = 320
NOT_ON_THE_INTERNET: Final = (
    "Enter an address on the internet: this one is the server itself, or on a private,"
    " link-local or reserved network (the server's WEBHOOK_ALLOWED_NETWORKS can allow one)"
)
# What the Alerts page says of a webhook attempt: never the network's answer (a status code, a
# refused connection), which would make the page a port scanner; the server's log has it.
WEBHOOK_DELIVERED: Final = "delivered"
WEBHOOK_NOT_DELIVERED: Final = "could not deliver"
NO_WEBHOOK_NOW: Final = "the clinic has no webhook now"
# An alert sent this recently still covers a new check-in of its submission at the same level
# or below: the clinic was just told to look, and the queue shows every check-in.
COVERED_AFTER_SENDING: Final = timedelta(minutes=15)


# -- queueing, with the submission ----------------------------------------------------------------


def queue(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    assessment_id: uuid.UUID,
    now: datetime,
    checkin_id: uuid.UUID | None = None,
) -> int:
    """The clinic's alerts for an emergency or urgent submission (or a check-in of it, with
    ``checkin_id``) just written in this transaction: an e-mail if the clinic has an alert
    address, a webhook if it has one. Returns how many were queued."""
    connection = session.connection()
    email, url, secret = connection.execute(
        select(Clinic.alert_email, Clinic.webhook_url, Clinic.webhook_secret).where(
            Clinic.id == clinic_id
        )
    ).one()
    kinds = [kind for kind, wanted in (("email", email), ("webhook", url and secret)) if wanted]
    return _insert(session, kinds, clinic_id, assessment_id, checkin_id, now)


def queue_for_checkin(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    assessment_id: uuid.UUID,
    checkin_id: uuid.UUID,
    rank: int,
    now: datetime,
) -> int:
    """Alerts coalesce per submission: an urgent check-in (of triage ``rank``, 0 the most
    urgent) queues a way of telling the clinic only if no alert of that kind for the same
    submission, as urgent or more, is still waiting or was sent in the last
    COVERED_AFTER_SENDING. A waiting alert that is less urgent and not yet tried is raised to
    this check-in (its level and time are read from it when sent); one that a sender already
    tried, or holds, is left alone and a new one is queued. The more urgent level is never
    lost. Returns how many were queued."""
    connection = session.connection()
    email, url, secret = connection.execute(
        select(Clinic.alert_email, Clinic.webhook_url, Clinic.webhook_secret).where(
            Clinic.id == clinic_id
        )
    ).one()
    kinds = [kind for kind, wanted in (("email", email), ("webhook", url and secret)) if wanted]
    standing = connection.execute(
        sa_select(
            col(Alert.id),
            col(Alert.kind),
            col(Alert.attempts),
            col(Alert.status),
            func.coalesce(col(Checkin.triage_rank), col(Assessment.triage_rank)).label("rank"),
        )
        .join(Assessment, col(Assessment.id) == col(Alert.assessment_id))
        .outerjoin(Checkin, col(Checkin.id) == col(Alert.checkin_id))
        .where(
            col(Alert.assessment_id) == assessment_id,
            (col(Alert.status) == "pending")
            | ((col(Alert.status) == "sent") & (col(Alert.sent_at) >= now - COVERED_AFTER_SENDING)),
        )
    ).all()
    wanted = []
    for kind in kinds:
        mine = [row for row in standing if row.kind == kind]
        if any(row.rank <= rank for row in mine):
            continue  # told already, as urgently
        untried = [row.id for row in mine if row.status == "pending" and row.attempts == 0]
        if untried:
            raised = connection.execute(
                update(Alert)
                .where(col(Alert.id).in_(untried), col(Alert.attempts) == 0)
                .values(checkin_id=checkin_id, next_attempt_at=now)
            )
            if raised.rowcount:
                session.info[QUEUED] = True
                continue
        wanted.append(kind)
    return _insert(session, wanted, clinic_id, assessment_id, checkin_id, now)


def _insert(
    session: Session,
    kinds: list[str],
    clinic_id: uuid.UUID,
    assessment_id: uuid.UUID,
    checkin_id: uuid.UUID | None,
    now: datetime,
) -> int:
    if kinds:
        session.connection().execute(
            insert(Alert),
            [
                {
                    "id": uuid.uuid4(), "clinic_id": clinic_id, "assessment_id": assessment_id,
                    "checkin_id": checkin_id, "kind": kind, "status": "pending", "attempts": 0,
                    "next_attempt_at": now, "created_at": now, "sent_at": None,
                }
                for kind in kinds
            ],
        )  # fmt: skip
        session.info[QUEUED] = True
    return len(kinds)


# -- sending: claim, then record what happened ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    """A due alert this sender has claimed, with what it needs to send it (and nothing else
    of the submission)."""

    id: uuid.UUID
    kind: str
    attempts: int  # with this one
    assessment_id: uuid.UUID
    level: str
    questionnaire_id: str
    submitted_at: datetime
    clinic_name: str
    time_zone: str
    email: str | None
    webhook_url: str | None
    webhook_secret: str | None
    checkin_id: uuid.UUID | None = None  # the alert is for this check-in of the submission

    @property
    def what(self) -> str:
        return "submission" if self.checkin_id is None else "check-in"


_DUE = (
    sa_select(
        *map(col, (Alert.id, Alert.kind, Alert.attempts, Alert.assessment_id, Alert.checkin_id)),
        # A check-in's alert: its level and time, under its submission's questionnaire.
        func.coalesce(col(Checkin.triage_level), col(Assessment.triage_level)).label(
            "triage_level"
        ),
        col(Assessment.questionnaire_id),
        func.coalesce(col(Checkin.created_at), col(Assessment.created_at)).label("created_at"),
        *map(col, (Clinic.name, Clinic.time_zone, Clinic.alert_email, Clinic.webhook_url)),
        col(Clinic.webhook_secret),
    )
    .join(Clinic, col(Clinic.id) == col(Alert.clinic_id))
    .join(Assessment, col(Assessment.id) == col(Alert.assessment_id))
    .outerjoin(Checkin, col(Checkin.id) == col(Alert.checkin_id))
    .where(col(Alert.status) == "pending")
    .order_by(col(Alert.next_attempt_at))
)


def claim_next(session: Session, *, now: datetime) -> Claim | None:
    """The oldest due alert, claimed for this sender; None when nothing is due. Commit before
    sending, so that other senders see the claim."""
    for row in due(session, now=now):
        if (claim := claim_one(session, row, now=now)) is not None:
            return claim
    return None


def due(session: Session, *, now: datetime, limit: int = 10) -> list[Row[Any]]:
    """Alerts that are due, oldest first, with what sending them needs."""
    # All fetched: on SQLite the read then ends before a claim writes.
    return list(
        session.connection().execute(_DUE.where(col(Alert.next_attempt_at) <= now).limit(limit))
    )


def claim_one(session: Session, row: Row[Any], *, now: datetime) -> Claim | None:
    """Claim a due alert, as ``due`` read it; None if another sender claimed it meanwhile.

    A conditional UPDATE on the attempts that were read: of senders racing for one alert
    (workers, processes), one updates the row; the others wait for its commit (the row lock on
    PostgreSQL, the database lock on SQLite), then find it changed and update nothing. It
    does not depend on the senders' clocks agreeing."""
    claimed = session.connection().execute(
        update(Alert)
        .where(
            col(Alert.id) == row.id,
            col(Alert.status) == "pending",
            col(Alert.attempts) == row.attempts,
            # Raised to a more urgent check-in since it was read: read again, then sent.
            col(Alert.checkin_id).is_(None)
            if row.checkin_id is None
            else col(Alert.checkin_id) == row.checkin_id,
        )
        .values(attempts=row.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
    )
    if claimed.rowcount != 1:
        return None
    return Claim(
        id=row.id, kind=row.kind, attempts=row.attempts + 1,
        assessment_id=row.assessment_id, level=row.triage_level,
        questionnaire_id=row.questionnaire_id, submitted_at=row.created_at,
        clinic_name=row.name, time_zone=row.time_zone, email=row.alert_email,
        webhook_url=row.webhook_url, webhook_secret=row.webhook_secret,
        checkin_id=row.checkin_id,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    detail: str  # what happened, for the clinic's Alerts page: never the message itself
    retry: bool = True  # a failure worth trying again (not, say, an address since removed)
    reason: str = ""  # for the server's log only, when the page is told less (webhooks)


def record_attempt(session: Session, claim: Claim, outcome: Outcome, *, now: datetime) -> str:
    """Keep the attempt, and mark the alert sent, due again later (backing off), or failed.
    Returns the alert's status."""
    session.add(
        AlertAttempt(
            alert_id=claim.id, attempted_at=now, ok=outcome.ok, detail=outcome.detail[:500]
        )
    )
    values: dict[str, Any]
    if outcome.ok:
        values = {"status": "sent", "sent_at": now}
    elif not outcome.retry or claim.attempts >= MAX_ATTEMPTS:
        values = {"status": "failed"}
    else:
        values = {"next_attempt_at": now + retry_delay(claim.attempts)}
    # Only while the claim holds: after a lease ran out another sender owns the alert.
    session.connection().execute(
        update(Alert)
        .where(col(Alert.id) == claim.id, col(Alert.attempts) == claim.attempts)
        .values(**values)
    )
    session.flush()
    return str(values.get("status", "pending"))


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed attempt an alert is tried again."""
    delay: timedelta = FIRST_RETRY * 2 ** (attempts - 1)
    return min(delay, LONGEST_RETRY)


# -- what is sent --------------------------------------------------------------------------------


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


# -- the clinic's settings ------------------------------------------------------------------------


def email_problem(email: str) -> str | None:
    """Why ``email`` cannot be an alert address, for people; None if it can (or is empty,
    which turns e-mail alerts off)."""
    email = email.strip()
    if not email:
        return None
    if problem := control_character_problem(email):
        return problem
    local, at, domain = email.partition("@")
    if (
        not (local and at and domain)
        or "@" in domain
        or len(email) > MAX_EMAIL_LENGTH
        or any(char.isspace() or char in ',;<>"' for char in email)
    ):
        return gettext("Enter one e-mail address, like %(example)s") % {
            "example": "alerts@example.org"
        }
    return None


def webhook_url_problem(
    url: str, *, allow_http: bool, allowed_networks: Sequence[Network]
) -> str | None:
    """Why ``url`` cannot be the webhook, for people; None if it can (or is empty). Asks no
    DNS server: an address written as numbers is checked here, a name by
    ``webhook_host_problem``."""
    url = url.strip()
    if not url:
        return None
    if problem := control_character_problem(url):
        return problem
    if len(url) > MAX_URL_LENGTH or any(char.isspace() for char in url):
        return "Enter a web address of at most 2000 characters, without spaces"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "Enter a web address, like https://example.org/backaudit-alerts"
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        # The body names a submission's level: it must not cross the internet in clear.
        return "Enter an https:// address, like https://example.org/backaudit-alerts"
    if parts.username is not None or parts.password is not None:
        return "Leave the user name and password out of the address"
    address = webhook_addresses.literal_address(parts.hostname)
    if address is not None and webhook_addresses.kind_of_refused(address, allowed_networks):
        return NOT_ON_THE_INTERNET
    return None


def webhook_host_problem(url: str, *, allowed_networks: Sequence[Network]) -> str | None:
    """Why the host of ``url`` (a valid webhook address) cannot be the webhook: it resolves to
    an address the server may not post to. Blocking (DNS): call it in a thread. A name that
    does not resolve now passes: every attempt checks it again before connecting."""
    try:
        parts = urlsplit(url.strip())
        if parts.hostname:
            webhook_addresses.checked_addresses(parts.hostname, url_port(parts), allowed_networks)
    except webhook_addresses.RefusedAddressError:
        return NOT_ON_THE_INTERNET
    except (OSError, ValueError):  # no such name (now), or not an address at all
        return None
    return None


def has_route(clinic: Clinic) -> bool:
    """Whether the clinic is told of an emergency or urgent submission at all (an e-mail
    address or a webhook); without one, only a look at the queue finds it."""
    return bool(clinic.alert_email or clinic.webhook_url)


def set_alert_email(session: Session, clinic: Clinic, email: str) -> None:
    """Where e-mail alerts go; empty turns them off. Alerts still waiting go to the new address."""
    if problem := email_problem(email):
        raise ValueError(problem)
    clinic.alert_email = email.strip() or None
    session.add(clinic)
    session.flush()


def url_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def set_webhook(
    session: Session,
    clinic: Clinic,
    url: str,
    *,
    allow_http: bool,
    allowed_networks: Sequence[Network],
) -> str | None:
    """Where webhooks go; empty turns them off and forgets the secret. Returns a new signing
    secret when one was made (the first time a URL is set): the one chance to show it. The
    caller checks a name's addresses first (``webhook_host_problem``, blocking)."""
    if problem := webhook_url_problem(
        url, allow_http=allow_http, allowed_networks=allowed_networks
    ):
        raise ValueError(problem)
    url = url.strip()
    made = None
    if not url:
        clinic.webhook_url = clinic.webhook_secret = None
    else:
        clinic.webhook_url = url
        if clinic.webhook_secret is None:
            made = clinic.webhook_secret = new_webhook_secret()
    session.add(clinic)
    session.flush()
    return made


def rotate_webhook_secret(session: Session, clinic: Clinic) -> str:
    """A new signing secret, used from the next attempt on (the old one stops at once)."""
    if clinic.webhook_url is None:
        raise ValueError("Set the webhook address first")
    clinic.webhook_secret = new_webhook_secret()
    session.add(clinic)
    session.flush()
    return clinic.webhook_secret


def new_webhook_secret() -> str:
    return SECRET_PREFIX + new_token(32)


# -- for the clinic's Alerts page ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertLine:
    alert: Alert
    level: str
    last_detail: str | None


def recent_alerts(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    assessment_id: uuid.UUID | None = None,
    limit: int = 50,
) -> list[AlertLine]:
    """The clinic's newest alerts (or one submission's), with what the last attempt said."""
    query = (
        select(Alert, func.coalesce(col(Checkin.triage_level), col(Assessment.triage_level)))
        .join(Assessment, col(Assessment.id) == col(Alert.assessment_id))
        .outerjoin(Checkin, col(Checkin.id) == col(Alert.checkin_id))
        .where(Alert.clinic_id == clinic_id)
    )
    if assessment_id is not None:
        query = query.where(Alert.assessment_id == assessment_id)
    rows = session.exec(
        query.order_by(col(Alert.created_at).desc(), col(Alert.kind)).limit(limit)
    ).all()
    last: dict[uuid.UUID, str] = {}
    if rows:
        attempts = session.exec(
            select(AlertAttempt.alert_id, AlertAttempt.ok, AlertAttempt.detail)
            .where(col(AlertAttempt.alert_id).in_([alert.id for alert, _ in rows]))
            .order_by(col(AlertAttempt.attempted_at))
        ).all()
        kinds = {alert.id: alert.kind for alert, _ in rows}
        last = {
            alert_id: shown_detail(kinds[alert_id], ok, detail) for alert_id, ok, detail in attempts
        }
    return [AlertLine(alert, level, last.get(alert.id)) for alert, level in rows]


def shown_detail(kind: str, ok: bool, detail: str) -> str:
    """An attempt's detail as the staff pages show it. A webhook attempt stored before they
    were kept generic ("HTTP 403", "Connection refused") is shown as the generic words."""
    if kind != "webhook" or detail in (WEBHOOK_DELIVERED, WEBHOOK_NOT_DELIVERED, NO_WEBHOOK_NOW):
        return detail
    return WEBHOOK_DELIVERED if ok else WEBHOOK_NOT_DELIVERED
