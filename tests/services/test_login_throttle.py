"""The sign-in throttle's counters (app/services/login_throttle.py), on a clock the test sets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.models import LoginThrottle, utcnow
from app.services import login_throttle

POLICY = login_throttle.ThrottlePolicy.of(first_delay=15, max_email_delay=60, max_address_delay=900)
START = utcnow()

Claim = Callable[..., timedelta | None]


@pytest.fixture
def claim(db: Session) -> Claim:
    def attempt(email: str, address: str, at: datetime) -> timedelta | None:
        wait = login_throttle.claim_login_attempt(
            db, email=email, client_ip=address, policy=POLICY, now=at
        )
        db.commit()
        return wait

    return attempt


def waits_after_each_attempt(
    claim: Claim, key: Callable[[int], tuple[str, str]], count: int
) -> list[int]:
    """Makes ``count`` counted attempts, each as soon as it may: the seconds waited before each."""
    now, waited = START, []
    for n in range(count):
        wait = claim(*key(n), now)
        waited.append(int(wait.total_seconds()) if wait else 0)
        if wait:
            now += wait
            assert claim(*key(n), now) is None
    return waited


def test_an_e_mail_gets_five_free_attempts_then_waits_that_double_up_to_a_minute(
    claim: Claim,
) -> None:
    waited = waits_after_each_attempt(claim, lambda n: ("amy@example.org", f"10.0.0.{n}"), 9)
    assert waited == [0, 0, 0, 0, 0, 15, 30, 60, 60]


def test_an_address_gets_ten_free_attempts_then_waits_that_double_up_to_a_quarter_hour(
    claim: Claim,
) -> None:
    waited = waits_after_each_attempt(claim, lambda n: (f"guess{n}@example.org", "10.0.0.1"), 18)
    assert waited == [0] * 10 + [15, 30, 60, 120, 240, 480, 900, 900]


def test_a_refused_attempt_counts_nothing(claim: Claim, db: Session) -> None:
    for _ in range(login_throttle.FREE_ATTEMPTS_PER_EMAIL):
        assert claim("amy@example.org", "10.0.0.1", START) is None
    for seconds in range(10):
        wait = claim("amy@example.org", "10.0.0.2", START + timedelta(seconds=seconds))
        assert wait == timedelta(seconds=15 - seconds)
    assert sorted(c.failures for c in db.exec(select(LoginThrottle)).all()) == [0, 5, 5]


def test_case_and_spacing_variants_of_an_e_mail_are_one_counter(claim: Claim) -> None:
    variants = [
        "amy@example.org",
        "AMY@example.org",
        " Amy@Example.ORG ",
        "amy@EXAMPLE.org",
        "aMy@example.org",
    ]
    for n, variant in enumerate(variants):
        assert claim(variant, f"10.0.0.{n}", START) is None
    assert claim("amy@example.org", "10.0.0.9", START) == timedelta(seconds=15)


def test_a_success_clears_the_e_mail_s_count_and_takes_its_own_back_from_the_address(
    claim: Claim, db: Session
) -> None:
    for _ in range(3):
        claim("amy@example.org", "10.0.0.1", START)
    claim("amy@example.org", "10.0.0.1", START)  # the right password, as it turns out
    login_throttle.forgive_login_attempt(
        db, email="Amy@example.org", client_ip="10.0.0.1", policy=POLICY, now=START
    )
    db.commit()
    assert sorted(c.failures for c in db.exec(select(LoginThrottle)).all()) == [0, 3]


def test_a_success_does_not_lift_an_address_s_wait_that_failures_earned(
    claim: Claim, db: Session
) -> None:
    for n in range(login_throttle.FREE_ATTEMPTS_PER_ADDRESS + 1):
        claim(f"guess{n}@example.org", "10.0.0.1", START + timedelta(seconds=15 * n))
    login_throttle.forgive_login_attempt(
        db, email="guess10@example.org", client_ip="10.0.0.1", policy=POLICY, now=START
    )
    db.commit()
    later = START + timedelta(seconds=15 * login_throttle.FREE_ATTEMPTS_PER_ADDRESS)
    assert claim("amy@example.org", "10.0.0.1", later) is not None


def test_a_counter_without_attempts_for_an_hour_starts_again(claim: Claim) -> None:
    for _ in range(login_throttle.FREE_ATTEMPTS_PER_EMAIL):
        claim("amy@example.org", "10.0.0.1", START)
    an_hour_on = START + login_throttle.THROTTLE_MEMORY
    for _ in range(login_throttle.FREE_ATTEMPTS_PER_EMAIL):
        assert claim("amy@example.org", "10.0.0.1", an_hour_on) is None


def test_old_counters_are_deleted_and_recent_ones_kept(claim: Claim, db: Session) -> None:
    claim("old@example.org", "10.0.0.1", START)
    claim("new@example.org", "10.0.0.1", START + timedelta(minutes=30))
    login_throttle.forget_old_login_attempts(
        db, now=START + login_throttle.THROTTLE_MEMORY + timedelta(seconds=1)
    )
    db.commit()
    assert sorted(c.failures for c in db.exec(select(LoginThrottle)).all()) == [1, 2]


def test_ipv6_clients_are_counted_by_their_64_bit_network(claim: Claim) -> None:
    for n in range(login_throttle.FREE_ATTEMPTS_PER_ADDRESS):
        assert claim(f"guess{n}@example.org", f"2001:db8:1:2::{n + 1:x}", START) is None
    assert claim("amy@example.org", "2001:db8:1:2:ffff::1", START) is not None
    assert claim("amy@example.org", "2001:db8:1:3::1", START) is None


def test_a_success_takes_back_only_its_own_count_when_others_counted_meanwhile(
    db: Session, engine: Engine
) -> None:
    """As a request does: claim, check the password (others claim meanwhile), then forgive, on
    the one session, which may still hold the counters as it read them at its claim."""
    login_throttle.claim_login_attempt(
        db, email="amy@example.org", client_ip="10.0.0.1", policy=POLICY
    )
    db.commit()
    held = db.exec(select(LoginThrottle)).all()  # noqa: F841 - the session keeps these
    with Session(engine) as other:
        for n in range(3):
            login_throttle.claim_login_attempt(
                other, email=f"guess{n}@example.org", client_ip="10.0.0.1", policy=POLICY
            )
            other.commit()
    login_throttle.forgive_login_attempt(
        db, email="amy@example.org", client_ip="10.0.0.1", policy=POLICY
    )
    db.commit()
    with Session(engine) as check:
        address = max(c.failures for c in check.exec(select(LoginThrottle)).all())
    assert address == 3
