"""The staff second factor: a code from an authenticator app (TOTP, RFC 6238, with pyotp), or
one of ten single-use recovery codes.

- Who must have one: every admin, and the clinicians of a clinic whose admins ask for it
  (``Clinic.require_2fa_for_clinicians``). Anyone else may. Someone who must and has none is
  sent to set it up right after their password, and reaches no other staff page until done
  (app/staff/deps.py).
- Setting up: a new secret is kept while the person adds it to their app (a QR code, or the
  secret typed in); their first right code turns it on, and ten recovery codes are made and
  shown once.
- Codes: six digits, 30-second steps, accepted one step early or late (a phone's clock drifts).
  The step of the last code accepted is stored, and no code of that step or an earlier one is
  accepted again; the check and the store are one conditional UPDATE, so two requests with the
  same code cannot both pass.
- Recovery codes: 16 characters of Crockford's base32 (80 random bits), stored as the SHA-256 of
  the account's id and the code. A hash of 80 random bits cannot be reversed by trying codes,
  so no salt or stretching is needed (as for the other tokens, app/security.py), and a code is
  found by its hash at once, where Argon2 would need a check of each of the ten. Each works once
  (a conditional UPDATE again).
- The secret is encrypted (AES-GCM) with a key made from SECRET_KEY, the account's id bound in
  as associated data: a copy of the database alone cannot make codes, and a secret copied to
  another account does not open. It is never logged or shown after setting up. A new
  SECRET_KEY makes the stored secrets unreadable: staff then sign in with a recovery code, or
  an admin (or `backaudit user reset-2fa`) resets theirs.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import pyotp
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, delete, func, or_, select, update

from app.models import Clinic, StaffRecoveryCode, StaffSession, StaffUser
from app.security import hash_token, seal, unseal
from app.services import audit, login_throttle

ISSUER: Final = "backaudit"  # the name authenticator apps show for the entry
STEP_SECONDS: Final = 30
DRIFT_STEPS: Final = 1  # a code of the step before or after now is accepted too
CODE_DIGITS: Final = 6
RECOVERY_CODE_COUNT: Final = 10
RECOVERY_CODE_LENGTH: Final = 16  # 16 characters of 32: 80 bits
RECOVERY_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
_MISREAD: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})  # as Crockford reads them
TOTP_PURPOSE: Final = "staff TOTP secrets"  # the key derived for it (app/security.py)


# -- who must have one ---------------------------------------------------------------------------


def required(user: StaffUser, clinic: Clinic) -> bool:
    return user.role == "admin" or clinic.require_2fa_for_clinicians


def enrolled(user: StaffUser) -> bool:
    return user.totp_enrolled_at is not None


def must_enrol(user: StaffUser, clinic: Clinic) -> bool:
    """Must have a second factor and has none: may reach only the page that sets one up."""
    return required(user, clinic) and not enrolled(user)


def set_required_for_clinicians(session: Session, clinic: Clinic, value: bool) -> bool:
    """True if it changed."""
    if clinic.require_2fa_for_clinicians == value:
        return False
    clinic.require_2fa_for_clinicians = value
    session.add(clinic)
    session.flush()
    return True


# -- setting up ----------------------------------------------------------------------------------


def begin_enrolment(session: Session, user: StaffUser, *, secret_key: str) -> str:
    """The secret for the person's app (base32): the one kept since they opened the page
    before, so that a reload shows the same QR code, or a new one."""
    if enrolled(user):
        raise ValueError("a second factor is set up already")
    secret = (
        unseal(secret_key, TOTP_PURPOSE, user.id.bytes, user.totp_secret)
        if user.totp_secret
        else None
    )
    if secret is None:
        secret = pyotp.random_base32()  # 32 characters: 160 bits, as RFC 4226 recommends
        user.totp_secret = seal(secret_key, TOTP_PURPOSE, user.id.bytes, secret)
        user.totp_last_step = None
        session.add(user)
        session.flush()
    return secret


def provisioning_uri(secret: str, email: str) -> str:
    """What the QR code holds: an otpauth:// address that authenticator apps read."""
    return pyotp.TOTP(secret, digits=CODE_DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def finish_enrolment(
    session: Session, user: StaffUser, code: str, *, secret_key: str, now: datetime
) -> list[str] | None:
    """The first right code from the app turns the second factor on: returns the recovery
    codes, to show once. None when the code is not right (or setting up was not begun)."""
    if enrolled(user) or not user.totp_secret:
        return None
    secret = unseal(secret_key, TOTP_PURPOSE, user.id.bytes, user.totp_secret)
    step = _matching_step(secret, code, now=now, after=None) if secret else None
    if step is None:
        return None
    user.totp_enrolled_at = now
    user.totp_last_step = step  # the code that turned it on cannot sign anyone in
    session.add(user)
    session.flush()
    return new_recovery_codes(session, user, now=now)


def reset(session: Session, user: StaffUser, *, keep_session_id: uuid.UUID | None = None) -> None:
    """No second factor any more, nor recovery codes, and every session of the account ends
    (but ``keep_session_id``, when the person does it themselves). Someone who must have one
    sets it up again at their next sign-in."""
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    session.add(user)
    session.exec(delete(StaffRecoveryCode).where(col(StaffRecoveryCode.user_id) == user.id))
    ended = delete(StaffSession).where(col(StaffSession.user_id) == user.id)
    if keep_session_id is not None:
        ended = ended.where(col(StaffSession.id) != keep_session_id)
    session.exec(ended)
    session.flush()


# -- a staff member's own changes, each with its audit event -------------------------------------


@dataclass(frozen=True, slots=True)
class Enrolled:
    recovery_codes: list[str]  # to show once


@dataclass(frozen=True, slots=True)
class WrongCode:
    secret: str  # the same secret, to try again


def enrol_with_code(
    session: Session, user: StaffUser, code: str, *, secret_key: str, now: datetime
) -> Enrolled | WrongCode:
    """The first code from the app: on with the second factor, or the setting up again."""
    codes = finish_enrolment(session, user, code, secret_key=secret_key, now=now)
    if codes is None:
        return WrongCode(begin_enrolment(session, user, secret_key=secret_key))
    audit.record_by(
        session,
        audit.Actor.of(user),
        "staff.2fa_enrolled",
        target_type="staff_user",
        target_id=user.id,
    )
    return Enrolled(codes)


def renew_recovery_codes(session: Session, user: StaffUser, *, now: datetime) -> list[str]:
    codes = new_recovery_codes(session, user, now=now)
    audit.record_by(
        session,
        audit.Actor.of(user),
        "staff.2fa_recovery_codes_renewed",
        target_type="staff_user",
        target_id=user.id,
    )
    return codes


def replace_own(session: Session, user: StaffUser, *, keep_session_id: uuid.UUID) -> None:
    """A new phone or app: the old secret and recovery codes stop working now, and the
    person's other sessions end (``keep_session_id``, theirs, goes on)."""
    reset(session, user, keep_session_id=keep_session_id)
    audit.record_by(
        session,
        audit.Actor.of(user),
        "staff.2fa_reset",
        target_type="staff_user",
        target_id=user.id,
        detail={"by": "themselves"},
    )


# -- signing in ----------------------------------------------------------------------------------


def use_code(
    session: Session, user: StaffUser, code: str, *, secret_key: str, now: datetime
) -> bool:
    """A right code from the app, of a later step than any accepted before: its step is
    stored, so it is not accepted again."""
    if not enrolled(user) or not user.totp_secret:
        return False
    secret = unseal(secret_key, TOTP_PURPOSE, user.id.bytes, user.totp_secret)
    step = _matching_step(secret, code, now=now, after=user.totp_last_step) if secret else None
    if step is None:
        return False
    last = col(StaffUser.totp_last_step)
    claimed = session.connection().execute(
        update(StaffUser)
        .where(col(StaffUser.id) == user.id, or_(last.is_(None), last < step))
        .values(totp_last_step=step)
    )
    if claimed.rowcount != 1:
        return False  # another request used this code (or a later one) meanwhile
    set_committed_value(user, "totp_last_step", step)
    return True


def use_recovery_code(session: Session, user: StaffUser, code: str, *, now: datetime) -> bool:
    """One of the account's unused recovery codes: it is used up."""
    if not enrolled(user):
        return False
    normalised = normalise_recovery_code(code)
    if len(normalised) != RECOVERY_CODE_LENGTH:
        return False
    claimed = session.connection().execute(
        update(StaffRecoveryCode)
        .where(
            col(StaffRecoveryCode.user_id) == user.id,
            col(StaffRecoveryCode.code_hash) == _recovery_hash(user.id, normalised),
            col(StaffRecoveryCode.used_at).is_(None),
        )
        .values(used_at=now)
    )
    return claimed.rowcount == 1


def claim_code_attempt(
    session: Session, *, user_id: uuid.UUID, policy: login_throttle.ThrottlePolicy
) -> timedelta | None:
    """Codes are throttled per account, as passwords are (app/services/login_throttle.py): None, and the
    attempt is counted, or how long to wait. Only someone with the password gets this far, so
    the rule is the harsh one."""
    return login_throttle.claim_attempt(session, {_code_key(user_id): policy.per_second_factor})


def forgive_code_attempt(session: Session, *, user_id: uuid.UUID) -> None:
    login_throttle.forgive_attempt(session, clear=[_code_key(user_id)])


def _code_key(user_id: uuid.UUID) -> str:
    return hash_token(f"second-factor:{user_id}")


def _matching_step(secret: str, code: str, *, now: datetime, after: int | None) -> int | None:
    """The time step, within the drift allowed around ``now`` and later than ``after``, whose
    code ``code`` is; None if none."""
    code = "".join(code.split())  # "123 456", as some apps show it
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=CODE_DIGITS, interval=STEP_SECONDS)
    current = time_step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def time_step(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


# -- recovery codes ------------------------------------------------------------------------------


def new_recovery_codes(session: Session, user: StaffUser, *, now: datetime) -> list[str]:
    """Ten new codes, shown once as "ABCD-EFGH-JKMN-PQRS"; the ones before stop working."""
    session.exec(delete(StaffRecoveryCode).where(col(StaffRecoveryCode.user_id) == user.id))
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    session.add_all(
        StaffRecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, code), created_at=now)
        for code in codes
    )
    session.flush()
    return ["-".join(code[i : i + 4] for i in range(0, len(code), 4)) for code in codes]


def recovery_codes_left(session: Session, user: StaffUser) -> int:
    return session.exec(
        select(func.count())
        .select_from(StaffRecoveryCode)
        .where(col(StaffRecoveryCode.user_id) == user.id, col(StaffRecoveryCode.used_at).is_(None))
    ).one()


def normalise_recovery_code(text: str) -> str:
    """A code as someone may type it ("abcd efgh-jkmn pqrs"): upper case, without spaces and
    dashes, with O read as 0 and I and L as 1."""
    return "".join(c for c in text.upper() if c not in " -").translate(_MISREAD)


def _recovery_hash(user_id: uuid.UUID, normalised: str) -> str:
    return hash_token(f"recovery:{user_id}:{normalised}")
