"""Rate limits: a token bucket per API key, per client address on the API, and per client
address for the forms' submissions.

A bucket holds ``limit.count`` requests and fills again over ``limit.period``; each request
takes one. It is kept as one number, the time it is full again (``full_at``; the "generic cell
rate algorithm" form of a token bucket): a request may go if the bucket is not emptier than
one request's worth, and then pushes ``full_at`` one request's worth later. Taking is one
statement (an insert, or an update of the row it met), so requests at once, in any number of
workers, on SQLite or PostgreSQL, cannot both take the last token: PostgreSQL locks the row
for the update, SQLite has one writer at a time. It runs in a transaction of its own
(Db.run_committed), so the row is not held while the request works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from app.models import RateBucket
from app.security import hash_token
from app.services.login_throttle import client_network

# Full buckets are the same as no row: those full this long are deleted, now and then.
FORGET_AFTER: Final = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Limit:
    """``count`` requests at once, and again as many over each ``period``. A count of 0: no
    limit."""

    count: int
    period: timedelta

    @property
    def interval(self) -> float:
        """Seconds for one request's worth to come back."""
        return self.period.total_seconds() / self.count


def api_key_bucket(key_id: object) -> str:
    return hash_token(f"api-key:{key_id}")


def api_address_bucket(client_ip: str) -> str:
    return hash_token(f"api-address:{client_network(client_ip)}")


def submission_address_bucket(client_ip: str) -> str:
    return hash_token(f"submission-address:{client_network(client_ip)}")


def staff_invite_bucket(clinic_id: object) -> str:
    return hash_token(f"staff-invite:{clinic_id}")


def result_email_bucket(assessment_id: object) -> str:
    """The result link e-mails one result may ask for: the form must not mail strangers."""
    return hash_token(f"result-email:{assessment_id}")


def take(session: Session, buckets: dict[str, Limit], *, now: datetime) -> timedelta | None:
    """One request from each of ``buckets`` (key: its limit). None: taken from every one.
    Otherwise how long until the emptiest has a request's worth again (some of the others may
    have been taken from: a refused request still counts where it fitted, as a request)."""
    waits = [
        wait
        for key, limit in sorted(buckets.items())  # one order: no two requests wait in a circle
        if limit.count > 0 and (wait := _take_one(session, key, limit, now)) is not None
    ]
    return max(waits) if waits else None


def _take_one(session: Session, key: str, limit: Limit, now: datetime) -> timedelta | None:
    at = now.timestamp()
    interval = limit.interval
    # A request may go while full_at is at most this far ahead: the bucket then has a token.
    slack = limit.period.total_seconds() - interval
    bucket = RateBucket.__table__.c  # type: ignore[attr-defined]
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        make(RateBucket)
        .values(key=key, full_at=at + interval)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={"full_at": case((bucket.full_at > at, bucket.full_at), else_=at) + interval},
            where=bucket.full_at <= at + slack,
        )
        .returning(bucket.full_at)
    )
    if session.execute(statement).first() is not None:
        return None
    full_at = session.execute(select(bucket.full_at).where(bucket.key == key)).scalar_one()
    return timedelta(seconds=max(full_at - slack - at, 0.001))


def forget_full_buckets(session: Session, *, now: datetime) -> None:
    """Buckets full for a while go (no row is the same as a full bucket)."""
    cutoff = (now - FORGET_AFTER).timestamp()
    session.execute(delete(RateBucket).where(col(RateBucket.full_at) < cutoff))


def retry_after(wait: timedelta) -> str:
    """A Retry-After header's whole seconds, rounded up: never sooner than the bucket allows."""
    return str(max(math.ceil(wait.total_seconds()), 1))
