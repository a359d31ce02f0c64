"""The rate limits' buckets, on the real database (SQLite, and PostgreSQL when it is set): how
many requests go, when the next may, and that requests at once never take more than there is."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.models import RateBucket
from app.services import rate_limits
from app.services.rate_limits import Limit

T0 = datetime(2031, 5, 4, 9, 0, tzinfo=UTC)  # any time: nothing here reads the calendar
THREE_A_MINUTE = Limit(3, timedelta(minutes=1))


def take(db: Session, key: str, at: datetime, limit: Limit = THREE_A_MINUTE) -> timedelta | None:
    wait = rate_limits.take(db, {key: limit}, now=at)
    db.commit()
    return wait


def test_a_bucket_lets_its_count_go_at_once_then_one_per_interval(db: Session) -> None:
    assert [take(db, "k", T0) for _ in range(3)] == [None, None, None]
    wait = take(db, "k", T0)
    assert wait is not None
    assert abs(wait.total_seconds() - 20) < 0.01
    assert rate_limits.retry_after(wait) == "20"
    assert take(db, "k", T0 + timedelta(seconds=19)) is not None  # refused: takes nothing
    assert take(db, "k", T0 + timedelta(seconds=20)) is None
    assert take(db, "k", T0 + timedelta(seconds=21)) is not None
    # Left alone, it fills up to its count, no further.
    later = T0 + timedelta(hours=5)
    assert [take(db, "k", later) is None for _ in range(4)] == [True, True, True, False]


def test_buckets_are_apart_and_a_count_of_0_is_no_limit(db: Session) -> None:
    for _ in range(3):
        take(db, "a", T0)
    assert take(db, "a", T0) is not None
    assert take(db, "b", T0) is None
    assert all(take(db, "a", T0, Limit(0, timedelta(minutes=1))) is None for _ in range(10))


def test_a_request_takes_from_every_bucket_and_waits_for_the_emptiest(db: Session) -> None:
    slow = Limit(1, timedelta(hours=1))
    assert rate_limits.take(db, {"key": THREE_A_MINUTE, "address": slow}, now=T0) is None
    wait = rate_limits.take(db, {"key": THREE_A_MINUTE, "address": slow}, now=T0)
    assert wait is not None
    assert abs(wait.total_seconds() - 3600) < 0.01


def test_full_buckets_are_forgotten_and_no_address_is_stored(db: Session) -> None:
    key = rate_limits.api_address_bucket("203.0.113.9")
    take(db, key, T0)
    take(db, "busy", T0 + timedelta(minutes=20))
    rate_limits.forget_full_buckets(db, now=T0 + timedelta(minutes=20))
    db.commit()
    assert [b.key for b in db.exec(select(RateBucket)).all()] == ["busy"]
    assert "203.0.113" not in key
    # An IPv6 client is one bucket per /64, as for the sign-in throttle.
    assert rate_limits.api_address_bucket("2001:db8::1") == rate_limits.api_address_bucket(
        "2001:db8::ffff"
    )


def test_requests_at_once_never_take_more_than_the_bucket_holds(
    engine: Engine, db: Session
) -> None:
    limit = Limit(5, timedelta(hours=1))
    allowed: list[bool] = []
    start = threading.Barrier(12)

    def request() -> None:
        with Session(engine) as session:
            start.wait()
            wait = rate_limits.take(session, {"shared": limit}, now=T0)
            session.commit()
            allowed.append(wait is None)

    threads = [threading.Thread(target=request) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(allowed) == [False] * 7 + [True] * 5
