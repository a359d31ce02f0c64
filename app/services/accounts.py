"""Staff accounts and passwords: creating an account, setting its password, checking one at
sign-in, and an admin's changes (role, disabling).

Passwords are hashed with Argon2id (argon2-cffi). Checking takes the same time whether or not
the e-mail exists (a dummy hash is verified), and sign-in says the same thing for every
failure. Set-password tokens are long random values stored only as SHA-256 hashes. Attempts
are counted first by app/services/login_throttle.py; sessions are app/services/staff_sessions.py
and the second factor app/services/second_factor.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import lru_cache
from typing import Final, Literal, TypeGuard

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, select

from app.models import Clinic, StaffSession, StaffUser, utcnow
from app.security import hash_token, new_token
from app.services import audit
from app.services.text import control_character_problem

Role = Literal["admin", "clinician"]
ROLES: Final = ("admin", "clinician")
MIN_PASSWORD_LENGTH: Final = 12
MAX_PASSWORD_LENGTH: Final = 1024
MAX_EMAIL_LENGTH: Final = 320  # what StaffUser.email holds
SET_PASSWORD_LIFETIME: Final = timedelta(hours=72)

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


def email_problem(email: str) -> str | None:
    """Why ``email`` (normalised) cannot be a staff address, for people; None if it can."""
    if (
        "@" not in email
        or len(email) > MAX_EMAIL_LENGTH
        or email.startswith("@")
        or email.endswith("@")
    ):
        return "Enter an e-mail address, like name@example.org"
    return control_character_problem(email)


def role_problem(role: str) -> str | None:
    return None if role in ROLES else "Role must be admin or clinician"


def email_in_use(session: Session, email: str) -> bool:
    """Whether an account in any clinic has ``email`` (normalised): addresses are unique."""
    return session.exec(select(StaffUser.id).where(StaffUser.email == email)).first() is not None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters"
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
    password_hash: str | None = None,
) -> tuple[StaffUser, str | None]:
    """Create a staff account. Without a password, returns a one-time set-password token.
    ``password_hash``: hash_password(password), when the caller made it already (away from its
    event loop)."""
    email = normalise_email(email)
    if problem := email_problem(email) or role_problem(role):
        raise AccountError(problem)
    if email_in_use(session, email):
        raise EmailInUseError("There is already an account with this e-mail address")
    user = StaffUser(clinic_id=clinic_id, email=email, role=role)
    token = None
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise AccountError(problem)
        user.password_hash = password_hash or hash_password(password)
    else:
        token = new_token(32)
        user.set_password_token_hash = hash_token(token)
        user.set_password_expires_at = utcnow() + SET_PASSWORD_LIFETIME
    session.add(user)
    session.flush()
    return user, token


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
    """The password set, in the clinic's audit log. ``password_hash``: hash_password(password),
    when the caller made it already (away from its event loop)."""
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
    audit.record_by(session, audit.Actor.of(user), "staff.password_set")


# -- logging in ----------------------------------------------------------------------------------


def could_sign_in_with(email: str, password: str) -> bool:
    """False for what no account can have: an over-long e-mail or password, or an e-mail with
    control or hidden characters (which would also reach the database and the audit log)."""
    return (
        len(email) <= MAX_EMAIL_LENGTH
        and len(password) <= MAX_PASSWORD_LENGTH
        and control_character_problem(email) is None
    )


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


def may_sign_in(user: StaffUser | None, matched: bool) -> TypeGuard[StaffUser]:
    """The password matched an account that is active. (The attempt was counted before.)"""
    return matched and user is not None and user.disabled_at is None


def rehash_if_needed(session: Session, user: StaffUser, password: str) -> None:
    """A hash made with older Argon2 parameters is replaced, now that the password is known."""
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
        session.add(user)
        session.flush()


# -- managing staff (admins) ---------------------------------------------------------------------


def list_staff(session: Session, *, clinic_id: uuid.UUID) -> list[StaffUser]:
    return list(
        session.exec(
            select(StaffUser).where(StaffUser.clinic_id == clinic_id).order_by(col(StaffUser.email))
        ).all()
    )


def active_user(session: Session, user_id: uuid.UUID) -> StaffUser | None:
    user = session.get(StaffUser, user_id)
    return user if user is not None and user.disabled_at is None else None


def clinic_of(session: Session, user: StaffUser) -> Clinic:
    return session.get_one(Clinic, user.clinic_id)


def get_clinic_staff(session: Session, *, clinic_id: uuid.UUID, user_id: str) -> StaffUser | None:
    """A staff member of this clinic, or None (another clinic's staff do not exist here)."""
    try:
        uid = uuid.UUID(user_id)
    except ValueError:
        return None
    user = session.get(StaffUser, uid)
    return user if user is not None and user.clinic_id == clinic_id else None


def change_role(session: Session, user: StaffUser, role: str) -> None:
    if problem := role_problem(role):
        raise AccountError(problem)
    user.role = role
    session.add(user)
    session.flush()


def disable(session: Session, user: StaffUser) -> None:
    user.disabled_at = utcnow()
    session.add(user)
    session.exec(delete(StaffSession).where(col(StaffSession.user_id) == user.id))
    session.flush()
