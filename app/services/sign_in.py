"""Signing in, as use cases: the password step and the second factor's code step, each one call
that takes what the form and the browser gave and returns what happened, for the route to show.

The password step holds an Argon2 check (tens of milliseconds of CPU): the staff door runs it
with ``Db.run_off_loop``, in a thread. Each attempt is counted, and committed, before its
password or code is checked (app/services/login_throttle.py), so concurrent attempts see it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from app.clock import Clock
from app.db import committed
from app.models import StaffUser
from app.services import accounts, audit, login_throttle, second_factor, staff_sessions
from app.services import sign_in_tokens as tokens

# -- what a step ends in --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refused:
    """The same answer for every failure: the form tells nothing about accounts."""

    keep_email: bool = True  # False for what no account can have: not even shown again


@dataclass(frozen=True, slots=True)
class Throttled:
    wait: timedelta


@dataclass(frozen=True, slots=True)
class CodeNeeded:
    """The password is right; the session starts once the second factor is too."""

    pending_token: str
    device_token: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Every factor is right: a fresh session (the browser's old one, if any, is ended)."""

    session_token: str
    must_enrol: bool  # must have a second factor and has none: it is set up before anything
    device_token: str | None = None  # after a password: this browser is now a known device


@dataclass(frozen=True, slots=True)
class CodeStepGone:
    """The password step is missing, too old, or its account has no second factor now."""


PasswordOutcome = Refused | Throttled | CodeNeeded | SignedIn
CodeOutcome = Refused | Throttled | SignedIn | CodeStepGone


@dataclass(frozen=True, slots=True)
class Browser:
    """What the request says about who is asking."""

    client_ip: str
    device_cookie: str | None  # this browser signed in to an account before
    session_cookie: str | None  # a staff session it may still hold, ended at a new one


@dataclass(frozen=True, slots=True)
class Config:
    """What every step needs from the app."""

    policy: login_throttle.ThrottlePolicy
    secret_key: str  # signs the device and pending cookies, and seals second-factor secrets
    clock: Clock


# -- the password ---------------------------------------------------------------------------------


def with_password(
    session: Session,
    email: str,
    password: str,
    browser: Browser,
    config: Config,
) -> PasswordOutcome:
    """The password step, run off the event loop (its Argon2 check is slow)."""
    if not accounts.could_sign_in_with(email, password):
        return Refused(keep_email=False)  # no check, and no count: like a wrong password
    account = accounts.find_account(session, email)
    # A browser that signed in to this account before is throttled on its own (its cookie is
    # signed for the account): a stranger's failures at this e-mail do not hold it up.
    device = tokens.read_device(config.secret_key, browser.device_cookie, now=config.clock())
    known = device.device_id if device and account and device.user_id == account.id else None
    ip, policy = browser.client_ip, config.policy
    wait = committed(
        session,
        login_throttle.claim_login_attempt,
        email=email,
        client_ip=ip,
        policy=policy,
        device=known,
    )
    if wait is not None:
        return Throttled(wait)
    if not accounts.may_sign_in(account, accounts.password_matches(account, password)):
        committed(session, login_throttle.forget_old_login_attempts)
        if account is not None:
            # In the account's clinic's log: someone tried it. The e-mail masked, never the
            # password; an unknown e-mail belongs to no clinic's log.
            audit.record(
                session,
                clinic_id=account.clinic_id,
                actor_id=None,
                action="staff.login_failed",
                target_type="staff_user",
                target_id=account.id,
                detail={"email": mask_email(account.email)},
            )
        return Refused()
    user = account
    committed(
        session,
        login_throttle.forgive_login_attempt,
        email=email,
        client_ip=ip,
        policy=policy,
        device=known,
    )
    accounts.rehash_if_needed(session, user, password)
    # This browser now knows the password: it is a known device for this account.
    device_token = tokens.device_token(config.secret_key, user.id, now=config.clock())
    if second_factor.enrolled(user):
        pending = tokens.pending_token(config.secret_key, user.id, now=config.clock())
        return CodeNeeded(pending, device_token)
    must_enrol = second_factor.must_enrol(user, accounts.clinic_of(session, user))
    token = _start_session(session, user, browser, config.clock)
    return SignedIn(token, must_enrol, device_token)


def mask_email(email: str) -> str:
    """ "amy@riverside.example" as "a**@riverside.example": enough to tell accounts apart."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}{'*' * max(2, len(name) - 1)}@{domain}"


# -- the second factor, after the password ----------------------------------------------------------


def with_code(
    session: Session,
    user_id: uuid.UUID,
    code: str,
    browser: Browser,
    config: Config,
    *,
    recovery: bool,
) -> CodeOutcome:
    """The code step, for the account whose password was right (the pending cookie's)."""
    user = accounts.active_user(session, user_id)
    if user is None or not second_factor.enrolled(user):
        return CodeStepGone()
    wait = committed(
        session, second_factor.claim_code_attempt, user_id=user.id, policy=config.policy
    )
    if wait is not None:
        return Throttled(wait)
    now = config.clock()
    if recovery:
        ok = second_factor.use_recovery_code(session, user, code, now=now)
    else:
        ok = second_factor.use_code(session, user, code, secret_key=config.secret_key, now=now)
    detail: dict[str, Any] = {"method": "recovery_code" if recovery else "app"}
    if not ok:
        # Someone with the password got the code wrong: worth the clinic's notice.
        audit.record(
            session,
            clinic_id=user.clinic_id,
            actor_id=None,
            action="staff.2fa_failed",
            target_type="staff_user",
            target_id=user.id,
            detail=detail,
        )
        return Refused()
    second_factor.forgive_code_attempt(session, user_id=user.id)
    if recovery:
        detail["recovery_codes_left"] = second_factor.recovery_codes_left(session, user)
    audit.record(
        session,
        clinic_id=user.clinic_id,
        actor_id=user.id,
        action="staff.2fa_used",
        target_type="staff_user",
        target_id=user.id,
        detail=detail,
    )
    return SignedIn(_start_session(session, user, browser, config.clock), must_enrol=False)


def _start_session(session: Session, user: StaffUser, browser: Browser, clock: Clock) -> str:
    """A fresh session (no fixation: the browser's old one, if any, is ended), in the log."""
    staff_sessions.end_session(session, browser.session_cookie)
    token = staff_sessions.start_session(session, user, now=clock())
    audit.record(session, clinic_id=user.clinic_id, actor_id=user.id, action="staff.login")
    return token
