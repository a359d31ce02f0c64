"""The sign-in throttle: counters per e-mail, per client address and per known device, each with
a few free attempts and then a growing wait; never a lock-out. The second factor's codes use
the same counters (app/services/second_factor.py)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, select

from app.models import LoginThrottle, utcnow
from app.security import hash_token
from app.services.accounts import normalise_email

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
