"""Keep your result: the person's own e-mails, sent by the clinic alerts' outbox worker.

On their result page a person may give an e-mail address to be sent their result link, and
(only if they tick the box) to be reminded there when a check-in is due. One ResultContact row
per result holds the address and what is waiting to be sent; app/services/alert_delivery.py
sends it after the commit, off the request, with retries, as it sends clinic alerts.

The result link is a 192-bit secret of which only a hash is stored. The link e-mail needs the
secret itself, so it waits in the row sealed (AES-GCM, a key made from SECRET_KEY, bound to
the row) and is erased once sent or given up. Reminders never carry it: they say a check-in
is due and where the link is (the first e-mail, the PDF's QR code). Every e-mail has a link
that forgets the address, without signing in. Nothing here logs an address or an answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel import Session, col, delete, select, update

from app.i18n import gettext
from app.models import Assessment, ResultContact
from app.security import new_token, seal, sign, unseal, verify

from . import alert_settings, alerts, assessments, checkin_dates, checkin_history, checkins
from .questionnaires import Registry, UnknownQuestionnaireError

UNSUBSCRIBE_PURPOSE: Final = "result-contact-unsubscribe"
UNSUBSCRIBE_PATH: Final = "/reminders/stop/"
LINK_PURPOSE: Final = "result links to e-mail"  # the key derived for it (app/security.py)


def ask(
    session: Session,
    assessment: Assessment,
    *,
    token: str,
    email: str,
    reminders: bool,
    registry: Registry,
    secret_key: str,
    now: datetime,
    language: str = "en",
) -> None:
    """Queue the result link to ``email`` and, if ``reminders``, a reminder on each due date.
    The address replaces one given before (and its unsubscribe link). ValueError with words
    for the person if the address cannot be one. (The route limits how often: the form must
    not mail strangers in bulk.) ``language``: the person's (app/i18n.py), the e-mails'."""
    email = email.strip()
    if not email:
        raise ValueError(gettext("Enter your e-mail address"))
    if problem := alert_settings.email_problem(email):
        raise ValueError(problem.replace("alerts@example.org", "name@example.com"))
    # A new row, not an update: the sender may be sending (or forgetting) the old one now.
    forget(session, [assessment.id])
    reminders = reminders and has_programme(registry, assessment)
    contact = ResultContact(
        assessment_id=assessment.id,
        email=email,
        unsubscribe_id=new_token(16),
        reminders=reminders,
        link_sealed=seal(secret_key, LINK_PURPOSE, assessment.id.bytes, token),
        link_due_at=now,
        remind_at=first_reminder(session, assessment, now) if reminders else None,
        created_at=now,
        language=language,
    )
    session.add(contact)
    session.flush()
    session.info[alerts.QUEUED] = True  # the sender is woken after the commit


def has_programme(registry: Registry, assessment: Assessment) -> bool:
    try:
        q = registry.exact(assessment.questionnaire_id, assessment.questionnaire_version)
    except UnknownQuestionnaireError:
        return False
    return checkins.has_programme(assessment, q)


def first_reminder(session: Session, assessment: Assessment, now: datetime) -> datetime | None:
    """The next due date not yet covered by a check-in (today's if one is due now)."""
    due = checkin_dates.due_on(assessment, checkin_history.checkin_times(session, assessment.id))
    return None if due is None else max(due, now)


def contact_of(session: Session, assessment: Assessment) -> ResultContact | None:
    return session.get(ResultContact, assessment.id)


def forget(session: Session, assessment_ids: Sequence[uuid.UUID]) -> None:
    """Delete the addresses given for these results (with them, or when the page goes)."""
    session.connection().execute(
        delete(ResultContact).where(col(ResultContact.assessment_id).in_(assessment_ids))
    )


def unsubscribe_token(contact: ResultContact, secret_key: str) -> str:
    return (
        f"{contact.unsubscribe_id}.{sign(secret_key, UNSUBSCRIBE_PURPOSE, contact.unsubscribe_id)}"
    )


def find_unsubscribing(session: Session, token: str, secret_key: str) -> ResultContact | None:
    """The contact an unsubscribe link names, if its signature holds."""
    unsubscribe_id, _, signature = token.partition(".")
    if not unsubscribe_id or not verify(secret_key, UNSUBSCRIBE_PURPOSE, unsubscribe_id, signature):
        return None
    return session.exec(
        select(ResultContact).where(ResultContact.unsubscribe_id == unsubscribe_id)
    ).first()


def unsubscribe(session: Session, token: str, secret_key: str) -> bool:
    """Forget the address (no more reminders, no link e-mail still waiting). False if the
    link is not (or no longer) one."""
    contact = find_unsubscribing(session, token, secret_key)
    if contact is None:
        return False
    forget(session, [contact.assessment_id])
    session.expunge(contact)
    return True


# -- sending: claim, then record what happened (as app/services/alerts.py does) ------------------


@dataclass(frozen=True, slots=True)
class Claim:
    """A due e-mail to a person, claimed by this sender, with what it needs to send it."""

    assessment_id: uuid.UUID
    kind: str  # link | reminder
    attempts: int  # with this one
    email: str
    unsubscribe_url: str
    result_url: str | None = None  # the link e-mail only
    due: datetime | None = None  # a reminder: the check-in's due date
    reminders: bool = False
    language: str = "en"  # the person's: the e-mail is written in it (keep_mail.py)


def claim_next(
    session: Session, *, now: datetime, secret_key: str, public_url: str
) -> Claim | None:
    """The oldest due e-mail to a person, claimed for this sender; None when nothing is due.
    A reminder whose check-in was done meanwhile is moved to the next due date instead."""
    base = public_url.rstrip("/")
    for contact in _due(session, col(ResultContact.link_due_at), now):
        if not _claimed(session, contact, "link", now):
            continue
        sealed = contact.link_sealed or ""
        token = unseal(secret_key, LINK_PURPOSE, contact.assessment_id.bytes, sealed)
        if token is None:  # SECRET_KEY changed: nothing to send, and nothing to keep
            _values(session, contact, link_sealed=None, link_due_at=None)
            continue
        return Claim(
            contact.assessment_id,
            "link",
            contact.link_attempts,
            contact.email,
            base + UNSUBSCRIBE_PATH + unsubscribe_token(contact, secret_key),
            result_url=f"{base}/result/{token}",
            reminders=contact.reminders,
            language=contact.language,
        )
    for contact in _due(session, col(ResultContact.remind_at), now):
        if not contact.reminders or not _claimed(session, contact, "reminder", now):
            continue
        record = session.get(Assessment, contact.assessment_id)
        if record is not None and record.replaced_by_id is not None:
            record = assessments.newest(session, record)  # corrected: its newest record
        due = None
        if record is not None:
            due = checkin_dates.due_on(record, checkin_history.checkin_times(session, record.id))
        if due is None or due > now:  # all done, or done until a later date
            _values(session, contact, remind_at=due, reminder_attempts=0)
            continue
        return Claim(
            contact.assessment_id,
            "reminder",
            contact.reminder_attempts,
            contact.email,
            base + UNSUBSCRIBE_PATH + unsubscribe_token(contact, secret_key),
            due=due,
            reminders=True,
            language=contact.language,
        )
    return None


def _due(session: Session, column: object, now: datetime) -> list[ResultContact]:
    found = session.exec(
        select(ResultContact).where(column <= now).order_by(column).limit(10)  # type: ignore[operator,arg-type]
    ).all()
    return list(found)


def _claimed(session: Session, contact: ResultContact, kind: str, now: datetime) -> bool:
    """A conditional UPDATE on the attempts read: of senders racing, one wins (alerts.py)."""
    attempts = ResultContact.link_attempts if kind == "link" else ResultContact.reminder_attempts
    due = ResultContact.link_due_at if kind == "link" else ResultContact.remind_at
    read = contact.link_attempts if kind == "link" else contact.reminder_attempts
    claimed = session.connection().execute(
        update(ResultContact)
        .where(col(ResultContact.assessment_id) == contact.assessment_id, col(attempts) == read)
        .values({attempts: read + 1, due: now + alerts.CLAIM_LEASE})
    )
    if claimed.rowcount != 1:
        return False
    session.refresh(contact)
    return True


def _values(session: Session, contact: ResultContact, **values: object) -> None:
    session.connection().execute(
        update(ResultContact)
        .where(col(ResultContact.assessment_id) == contact.assessment_id)
        .values(**values)
    )


def record_attempt(
    session: Session, claim: Claim, outcome: alerts.Outcome, *, now: datetime
) -> str:
    """Mark the e-mail sent, due again later (backing off), or given up. Returns which."""
    attempts = (
        ResultContact.link_attempts if claim.kind == "link" else ResultContact.reminder_attempts
    )
    given_up = not outcome.ok and (not outcome.retry or claim.attempts >= alerts.MAX_ATTEMPTS)
    values: dict[str, object]
    if claim.kind == "link" and not claim.reminders and (outcome.ok or given_up):
        # Given for this e-mail only: once it is sent (or given up), the address goes (unless
        # a new one was given meanwhile: its row's attempts start again at 0).
        session.connection().execute(
            delete(ResultContact).where(
                col(ResultContact.assessment_id) == claim.assessment_id,
                col(ResultContact.link_attempts) == claim.attempts,
            )
        )
        return "sent" if outcome.ok else "failed"
    if claim.kind == "link":
        if outcome.ok or given_up:  # the sealed link goes either way
            values = {"link_sealed": None, "link_due_at": None}
        else:
            values = {"link_due_at": now + alerts.retry_delay(claim.attempts)}
    elif outcome.ok or given_up:  # on to the next due date after this one
        assert claim.due is not None
        later = [d for d in _due_dates(session, claim.assessment_id) if d > claim.due]
        values = {"remind_at": max(later[0], now) if later else None, "reminder_attempts": 0}
    else:
        values = {"remind_at": now + alerts.retry_delay(claim.attempts)}
    # Only while the claim holds: after a lease ran out another sender owns it.
    session.connection().execute(
        update(ResultContact)
        .where(
            col(ResultContact.assessment_id) == claim.assessment_id,
            col(attempts) == claim.attempts,
        )
        .values(**values)
    )
    return "sent" if outcome.ok else "failed" if given_up else "pending"


def _due_dates(session: Session, assessment_id: uuid.UUID) -> list[datetime]:
    record = session.get(Assessment, assessment_id)
    if record is None:
        return []
    if record.replaced_by_id is not None:
        record = assessments.newest(session, record)
    return checkin_dates.due_dates(record)
