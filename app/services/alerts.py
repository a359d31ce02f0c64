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

Here: queueing and claiming alerts, and recording each attempt. What is sent is in
alert_messages.py, the clinic's alert address and webhook in alert_settings.py, the Alerts
page's list in alert_history.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Row, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from app.models import Alert, AlertAttempt, Assessment, Checkin, Clinic

# After a failed attempt the next waits twice as long: 15 s, 30 s, 1 min... up to 15 min; after
# the tenth the alert is marked failed (about an hour of trying), and the page says so.
FIRST_RETRY: Final = timedelta(seconds=15)
LONGEST_RETRY: Final = timedelta(minutes=15)
MAX_ATTEMPTS: Final = 10
# A claimed alert is not due again for this long: another sender leaves it alone meanwhile, and
# if this process dies while sending, it is tried again afterwards.
CLAIM_LEASE: Final = timedelta(minutes=5)
# In Session.info when the transaction queued an alert: after its commit the sender is woken.
QUEUED: Final = "alerts_queued"
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
