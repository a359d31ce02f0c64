"""Staff accounts, passwords, sessions and login throttling.

Passwords are hashed with Argon2id (argon2-cffi). Login takes the same time whether or not the
e-mail exists (a dummy hash is verified), and says the same thing for every failure. Attempts
are throttled per e-mail and per address, or per known device, with growing delays (see "the
sign-in throttle"). Session, set-password and CSRF tokens are long random values stored only as
SHA-256 hashes (the CSRF token is per session). A session ends 12 hours after it began, or
after 30 minutes without a request. The second factor is app/services/second_factor.py.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final, Literal, TypeGuard

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, delete, select, update

from app.models import Clinic, LoginThrottle, StaffSession, StaffUser, utcnow
from app.security import hash_token, new_token
from app.services.text import control_character_problem

Role = Literal["admin", "clinician"]
ROLES: Final = ("admin", "clinician")
MIN_PASSWORD_LENGTH: Final = 12
MAX_PASSWORD_LENGTH: Final = 1024
MAX_EMAIL_LENGTH: Final = 320  # what StaffUser.email holds
SESSION_LIFETIME: Final = timedelta(hours=12)  # however busy the session is
SESSION_IDLE_TIMEOUT: Final = timedelta(minutes=30)  # since its last request
LAST_SEEN_EVERY: Final = timedelta(minutes=1)  # how often a busy session's last request is stored
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
) -> tuple[StaffUser, str | None]:
    """Create a staff account. Without a password, returns a one-time set-password token."""
    email = normalise_email(email)
    if (
        "@" not in email
        or len(email) > MAX_EMAIL_LENGTH
        or email.startswith("@")
        or email.endswith("@")
    ):
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


# -- the sign-in throttle ------------------------------------------------------------------------
#
# Every attempt is counted, and committed, before its password is checked (in a transaction of
# its own: Db.run_committed), so concurrent attempts see each other; a right password then takes
# its count back. Two counters, each with a few free attempts and then a wait that doubles with
# every further attempt, up to a cap; never a lock-out:
# - per e-mail address, from any client: bounds the guesses at one account even from many
#   addresses. A stranger can trip it for any staff member, so it is the gentle one: its cap is
#   short (a minute), and tripping it again costs the stranger another attempt, which counts
#   against their own address too.
# - per client address, for any e-mail: the stranger's own counter, so it may be harsh (a
#   quarter of an hour). It allows more free attempts, as a clinic's staff may share one
#   address; a right password does not count.
# With one address a stranger can so keep a clinician waiting for a few minutes, and then for
# at most a minute in every quarter of an hour; holding the door shut takes some fifteen
# addresses, and gets them one guess a minute at that account.
# - per known device, instead of both: a browser that signed in to the account before carries a
#   signed cookie saying so (app/services/sign_in_tokens.py). Its attempts at that account are
#   counted against that device alone, with the e-mail's rule, so neither a stranger's failures
#   at the e-mail nor those from a shared address (every client, behind a proxy that is not in
#   FORWARDED_ALLOW_IPS) hold it up, and a stolen cookie still buys one guess a minute.
# Second-factor codes have a counter per account (app/services/second_factor.py), with the
# address's harsh rule: only someone with the password reaches it.

THROTTLE_MEMORY: Final = timedelta(hours=1)  # a counter without attempts this long starts again
FREE_ATTEMPTS_PER_EMAIL: Final = 5
FREE_ATTEMPTS_PER_ADDRESS: Final = 10


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    free_attempts: int
    first_delay: timedelta
    max_delay: timedelta

    def delay_after(self, attempts: int) -> timedelta:
        """How long the next attempt waits once ``attempts`` are counted."""
        if attempts < self.free_attempts:
            return timedelta(0)
        doublings = min(attempts - self.free_attempts, 32)  # no overflow on a long attack
        return min(self.max_delay, self.first_delay * (1 << doublings))


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    per_email: ThrottleRule  # and per known device
    per_address: ThrottleRule
    per_second_factor: ThrottleRule

    @classmethod
    def of(
        cls, *, first_delay: float, max_email_delay: float, max_address_delay: float
    ) -> ThrottlePolicy:
        """From the settings' seconds."""
        first = timedelta(seconds=first_delay)
        harsh = timedelta(seconds=max_address_delay)
        return cls(
            ThrottleRule(FREE_ATTEMPTS_PER_EMAIL, first, timedelta(seconds=max_email_delay)),
            ThrottleRule(FREE_ATTEMPTS_PER_ADDRESS, first, harsh),
            ThrottleRule(FREE_ATTEMPTS_PER_EMAIL, first, harsh),
        )


def claim_login_attempt(
    session: Session,
    *,
    email: str,
    client_ip: str,
    policy: ThrottlePolicy,
    device: str | None = None,
    now: datetime | None = None,
) -> timedelta | None:
    """None: this attempt is counted against the e-mail and the address (or, from a known
    device, against that device alone: ``device`` is its id, from a cookie valid for this
    e-mail's account), and its password may be checked. Otherwise how long to wait."""
    return claim_attempt(session, _login_rules(email, client_ip, policy, device), now=now)


def claim_attempt(
    session: Session, rules: Mapping[str, ThrottleRule], *, now: datetime | None = None
) -> timedelta | None:
    """None: the attempt is counted against every counter in ``rules`` (key: its rule).
    Otherwise how long to wait, and nothing is counted (a refused attempt costs the server
    nothing, so it does not make anyone wait longer)."""
    counters = _locked_counters(session, list(rules), now or utcnow())
    now = now or utcnow()  # once the counters are ours: a wait is counted from the last claim
    waits: list[timedelta] = [
        until - now for c in counters.values() if (until := c.blocked_until) and until > now
    ]
    if waits:
        return max(waits)
    for key, rule in rules.items():
        counter = counters[key]
        counter.failures = (0 if _forgotten(counter, now) else counter.failures) + 1
        delay = rule.delay_after(counter.failures)
        counter.blocked_until = now + delay if delay else None
        counter.updated_at = now
        session.add(counter)
    session.flush()
    return None


def forgive_login_attempt(
    session: Session,
    *,
    email: str,
    client_ip: str,
    policy: ThrottlePolicy,
    device: str | None = None,
    now: datetime | None = None,
) -> None:
    """After a right password: the e-mail's (or the known device's) count starts again, and
    the attempt no longer counts against the address (only failures should). Committed at
    once, like the claim."""
    if device is not None:
        forgive_attempt(session, clear=[_device_key(device)], now=now)
        return
    email_key, address_key = _throttle_keys(email, client_ip)
    forgive_attempt(
        session, clear=[email_key], take_back={address_key: policy.per_address}, now=now
    )


def forgive_attempt(
    session: Session,
    *,
    clear: Sequence[str],
    take_back: Mapping[str, ThrottleRule] | None = None,
    now: datetime | None = None,
) -> None:
    """The counters in ``clear`` start again; those in ``take_back`` lose this attempt (and
    their wait, if what is left earns none)."""
    take_back = take_back or {}
    counters = _locked_counters(session, [*clear, *take_back], now or utcnow())
    for key in clear:
        counters[key].failures = 0
        counters[key].blocked_until = None
    for key, rule in take_back.items():
        counter = counters[key]
        counter.failures = max(counter.failures - 1, 0)
        if not rule.delay_after(counter.failures):
            counter.blocked_until = None
    session.add_all(counters.values())
    session.flush()


def forget_old_login_attempts(session: Session, *, now: datetime | None = None) -> None:
    """Counters without an attempt for THROTTLE_MEMORY go: neither e-mail addresses nor client
    addresses are kept longer than needed, even hashed. Alone in its transaction: on PostgreSQL
    it skips rows another sign-in holds, so it never waits for one (nor they for it)."""
    cutoff = (now or utcnow()) - THROTTLE_MEMORY
    old = (
        select(LoginThrottle.key)
        .where(col(LoginThrottle.updated_at) < cutoff)
        .with_for_update(skip_locked=True)
    )
    session.exec(delete(LoginThrottle).where(col(LoginThrottle.key).in_(old)))


def _login_rules(
    email: str, client_ip: str, policy: ThrottlePolicy, device: str | None
) -> dict[str, ThrottleRule]:
    if device is not None:
        return {_device_key(device): policy.per_email}
    email_key, address_key = _throttle_keys(email, client_ip)
    return {email_key: policy.per_email, address_key: policy.per_address}


def _device_key(device: str) -> str:
    return hash_token(f"device:{device}")


def _throttle_keys(email: str, client_ip: str) -> tuple[str, str]:
    # Case and spacing variants of an e-mail are one account, so they are one counter.
    email_key = hash_token(f"email:{normalise_email(email)}")
    return email_key, hash_token(f"address:{client_network(client_ip)}")


def client_network(client_ip: str) -> str:
    """An IPv6 client is counted by its /64, the least a household or server is given: one
    address each would be billions of counters for one attacker."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _forgotten(counter: LoginThrottle, now: datetime) -> bool:
    return counter.updated_at <= now - THROTTLE_MEMORY


def _locked_counters(session: Session, keys: list[str], now: datetime) -> dict[str, LoginThrottle]:
    """The counters for ``keys``, made if missing, and held until the transaction ends: on
    PostgreSQL by row locks, taken in key order so that two sign-ins never wait for each other
    in a circle; on SQLite by the database's write lock, which the insert takes."""
    keys = sorted(keys)
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    for _ in range(3):  # again only if forget_old_login_attempts took a row meanwhile
        session.execute(
            make(LoginThrottle)
            .values([{"key": key, "failures": 0, "updated_at": now} for key in keys])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        found = session.exec(
            select(LoginThrottle)
            .where(col(LoginThrottle.key).in_(keys))
            .order_by(col(LoginThrottle.key))
            .with_for_update()
            # As stored now, not as this session saw them at its claim: others count meanwhile.
            .execution_options(populate_existing=True)
        ).all()
        if len(found) == len(keys):
            return {counter.key: counter for counter in found}
    raise RuntimeError("sign-in counters kept disappearing")


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: StaffUser
    clinic: Clinic
    session: StaffSession


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
