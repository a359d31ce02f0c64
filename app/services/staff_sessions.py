"""Staff sessions: the cookie's token (stored only as its SHA-256 hash) and the session's CSRF
token. A session ends SESSION_LIFETIME after it began, or after SESSION_IDLE_TIMEOUT without a
request; a new password or a disabled account ends them all (app/services/accounts.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, delete, select, update

from app.models import Clinic, StaffSession, StaffUser, utcnow
from app.security import hash_token, new_token
from app.services import audit

SESSION_LIFETIME: Final = timedelta(hours=12)  # however busy the session is
SESSION_IDLE_TIMEOUT: Final = timedelta(minutes=30)  # since its last request
LAST_SEEN_EVERY: Final = timedelta(minutes=1)  # how often a busy session's last request is stored


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: StaffUser
    clinic: Clinic
    session: StaffSession

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor.of(self.user)


def start_session(session: Session, user: StaffUser, *, now: datetime | None = None) -> str:
    """A new session for ``user``; returns the cookie value (only its hash is stored)."""
    now = now or utcnow()
    token = new_token(32)
    session.add(
        StaffSession(
            token_hash=hash_token(token),
            user_id=user.id,
            csrf_token=new_token(24),
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def signed_in(
    session: Session, token: str | None, *, now: datetime | None = None
) -> SignedIn | None:
    """The session of this cookie, if it is neither past its absolute limit nor idle for
    SESSION_IDLE_TIMEOUT, and its account is active."""
    if not token:
        return None
    now = now or utcnow()
    row = session.exec(
        select(StaffSession, StaffUser, Clinic)
        .join(StaffUser, col(StaffUser.id) == col(StaffSession.user_id))
        .join(Clinic, col(Clinic.id) == col(StaffUser.clinic_id))
        .where(StaffSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    staff_session, user, clinic = row
    if (
        staff_session.expires_at <= now
        or staff_session.last_seen_at + SESSION_IDLE_TIMEOUT <= now
        or user.disabled_at is not None
    ):
        return None
    return SignedIn(user, clinic, staff_session)


def seen_long_ago(staff_session: StaffSession, now: datetime) -> bool:
    """Its last-seen time is due to be written again (at most once a minute, not on every
    request)."""
    return now - staff_session.last_seen_at >= LAST_SEEN_EVERY


def mark_seen(session: Session, staff_session: StaffSession, now: datetime) -> None:
    session.connection().execute(
        update(StaffSession)
        .where(col(StaffSession.id) == staff_session.id, col(StaffSession.last_seen_at) < now)
        .values(last_seen_at=now)
    )
    set_committed_value(staff_session, "last_seen_at", now)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.exec(delete(StaffSession).where(col(StaffSession.token_hash) == hash_token(token)))
        session.flush()


def sign_out(
    session: Session, token: str | None, csrf_token: str, *, now: datetime
) -> Literal["signed_out", "not_signed_in", "form_expired"]:
    """The cookie's session ends, in its clinic's log. The form is CSRF-protected too, so that
    another site cannot sign staff out."""
    staff = signed_in(session, token, now=now)
    if staff is None:
        return "not_signed_in"
    if csrf_token != staff.session.csrf_token:
        return "form_expired"
    audit.record_by(session, staff.actor, "staff.logout")
    end_session(session, token)
    return "signed_out"
