"""Staff accounts, passwords, sessions and login throttling.

Passwords are hashed with Argon2id (argon2-cffi). Login takes the same time whether or not the
e-mail exists (a dummy hash is verified), and says the same thing for every failure. Failed
attempts are throttled per e-mail and per address. Session, set-password and CSRF tokens are
long random values stored only as SHA-256 hashes (the CSRF token is per session).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Final, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, func, select

from app.models import Clinic, LoginAttempt, StaffSession, StaffUser, utcnow
from app.security import hash_token, new_token
from app.services.text import control_character_problem

Role = Literal["admin", "clinician"]
ROLES: Final = ("admin", "clinician")
MIN_PASSWORD_LENGTH: Final = 12
SESSION_LIFETIME: Final = timedelta(hours=12)
SET_PASSWORD_LIFETIME: Final = timedelta(hours=72)
THROTTLE_WINDOW: Final = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL: Final = 5
MAX_FAILURES_PER_ADDRESS: Final = 20

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not-a-real-password-only-for-timing")


class AccountError(ValueError):
    """A request about an account that cannot be done; the message is safe to show."""


class EmailInUseError(AccountError):
    """An account, in any clinic, has this e-mail address already (addresses are unique)."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 1024:
        return "Use at most 1024 characters"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# -- accounts ------------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    email: str,
    role: str,
    password: str | None = None,
) -> tuple[StaffUser, str | None]:
    """Create a staff account. Without a password, returns a one-time set-password token."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 320 or email.startswith("@") or email.endswith("@"):
        raise AccountError("Enter an e-mail address, like name@example.org")
    if problem := control_character_problem(email):
        raise AccountError(problem)
    if role not in ROLES:
        raise AccountError("Role must be admin or clinician")
    if session.exec(select(StaffUser).where(StaffUser.email == email)).first() is not None:
        raise EmailInUseError("There is already an account with this e-mail address")
    user = StaffUser(clinic_id=clinic_id, email=email, role=role)
    token = None
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise AccountError(problem)
        user.password_hash = hash_password(password)
    else:
        token = new_token(32)
        user.set_password_token_hash = hash_token(token)
        user.set_password_expires_at = utcnow() + SET_PASSWORD_LIFETIME
    session.add(user)
    session.flush()
    return user, token


def new_set_password_token(session: Session, user: StaffUser) -> str:
    token = new_token(32)
    user.set_password_token_hash = hash_token(token)
    user.set_password_expires_at = utcnow() + SET_PASSWORD_LIFETIME
    session.add(user)
    session.flush()
    return token


def user_for_set_password_token(session: Session, token: str) -> StaffUser | None:
    user = session.exec(
        select(StaffUser).where(StaffUser.set_password_token_hash == hash_token(token))
    ).first()
    if user is None or user.disabled_at is not None:
        return None
    if user.set_password_expires_at is None or user.set_password_expires_at <= utcnow():
        return None
    return user


def set_password(
    session: Session, user: StaffUser, password: str, *, password_hash: str | None = None
) -> None:
    """``password_hash``: hash_password(password), when the caller made it already (away from
    its event loop)."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user.password_hash = password_hash or hash_password(password)
    user.set_password_token_hash = None
    user.set_password_expires_at = None
    session.add(user)
    # A new password signs out every existing session of this account.
    session.exec(delete(StaffSession).where(col(StaffSession.user_id) == user.id))
    session.flush()


# -- logging in ----------------------------------------------------------------------------------


def is_throttled(session: Session, *, email: str, client_ip: str) -> bool:
    since = utcnow() - THROTTLE_WINDOW
    by_email = session.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.email == normalise_email(email), LoginAttempt.attempted_at >= since)
    ).one()
    by_address = session.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.client_ip == client_ip, LoginAttempt.attempted_at >= since)
    ).one()
    return by_email >= MAX_FAILURES_PER_EMAIL or by_address >= MAX_FAILURES_PER_ADDRESS


def authenticate(
    session: Session, *, email: str, password: str, client_ip: str
) -> StaffUser | None:
    """The user if the e-mail and password match an active account; records failures.

    The caller checks ``is_throttled`` first. In three steps, so that a server can check the
    password away from its event loop (Argon2 takes tens of milliseconds of CPU on purpose):
    ``find_account``, ``password_matches``, ``record_login``."""
    user = find_account(session, email)
    return record_login(
        session, email=email, user=user, matched=password_matches(user, password),
        password=password, client_ip=client_ip,
    )  # fmt: skip


def find_account(session: Session, email: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.email == normalise_email(email))).first()


def password_matches(user: StaffUser | None, password: str) -> bool:
    """Every path verifies one Argon2 hash, so a wrong e-mail and a wrong password take the
    same time. No database: safe in any thread."""
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def record_login(
    session: Session,
    *,
    email: str,
    user: StaffUser | None,
    matched: bool,
    password: str,
    client_ip: str,
) -> StaffUser | None:
    """The signed-in user, or None: a failure is recorded for throttling."""
    email = normalise_email(email)
    if not matched or user is None or user.disabled_at is not None:
        # Attempts older than the window no longer count: delete them rather than keep
        # e-mail addresses and IPs for ever.
        session.exec(
            delete(LoginAttempt).where(col(LoginAttempt.attempted_at) < utcnow() - THROTTLE_WINDOW)
        )
        session.add(LoginAttempt(email=email[:320], client_ip=client_ip[:64]))
        session.flush()
        return None
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
        session.add(user)
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == email))
    session.flush()
    return user


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: StaffUser
    clinic: Clinic
    session: StaffSession


def start_session(session: Session, user: StaffUser) -> str:
    """A new session for ``user``; returns the cookie value (only its hash is stored)."""
    token = new_token(32)
    session.add(
        StaffSession(
            token_hash=hash_token(token),
            user_id=user.id,
            csrf_token=new_token(24),
            expires_at=utcnow() + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def signed_in(session: Session, token: str | None) -> SignedIn | None:
    if not token:
        return None
    row = session.exec(
        select(StaffSession, StaffUser, Clinic)
        .join(StaffUser, col(StaffUser.id) == col(StaffSession.user_id))
        .join(Clinic, col(Clinic.id) == col(StaffUser.clinic_id))
        .where(StaffSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    staff_session, user, clinic = row
    if staff_session.expires_at <= utcnow() or user.disabled_at is not None:
        return None
    return SignedIn(user, clinic, staff_session)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.exec(delete(StaffSession).where(col(StaffSession.token_hash) == hash_token(token)))
        session.flush()


# -- managing staff (admins) ---------------------------------------------------------------------


def list_staff(session: Session, *, clinic_id: uuid.UUID) -> list[StaffUser]:
    return list(
        session.exec(
            select(StaffUser).where(StaffUser.clinic_id == clinic_id).order_by(col(StaffUser.email))
        ).all()
    )


def get_clinic_staff(session: Session, *, clinic_id: uuid.UUID, user_id: str) -> StaffUser | None:
    """A staff member of this clinic, or None (another clinic's staff do not exist here)."""
    try:
        uid = uuid.UUID(user_id)
    except ValueError:
        return None
    user = session.get(StaffUser, uid)
    return user if user is not None and user.clinic_id == clinic_id else None


def change_role(session: Session, user: StaffUser, role: str) -> None:
    if role not in ROLES:
        raise AccountError("Role must be admin or clinician")
    user.role = role
    session.add(user)
    session.flush()


def disable(session: Session, user: StaffUser) -> None:
    user.disabled_at = utcnow()
    session.add(user)
    session.exec(delete(StaffSession).where(col(StaffSession.user_id) == user.id))
    session.flush()
