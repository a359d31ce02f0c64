"""The staff second factor's rules (app/services/second_factor.py), on times the test chooses:
codes with a step of drift either way and never twice, recovery codes once each and stored as
hashes, the secret stored encrypted, and who must have one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.models import Clinic, StaffRecoveryCode, StaffSession, StaffUser
from app.security import hash_token
from app.services import accounts, second_factor, staff_sessions
from tests.conftest import TEST_SECRET

START = datetime.fromisoformat("2026-12-07T09:00:10+00:00")  # 10 s into a 30 s step


def code(secret: str, at: datetime, steps_later: int = 0) -> str:
    return pyotp.TOTP(secret).generate_otp(int(at.timestamp()) // 30 + steps_later)


@pytest.fixture
def user(db: Session, clinic: Clinic) -> StaffUser:
    made, _ = accounts.create_user(
        db, clinic_id=clinic.id, email="amy@riverside.example", role="admin", password="p" * 12
    )
    db.commit()
    return made


def enrol(db: Session, user: StaffUser, at: datetime = START) -> tuple[str, list[str]]:
    secret = second_factor.begin_enrolment(db, user, secret_key=TEST_SECRET)
    codes = second_factor.finish_enrolment(
        db, user, code(secret, at), secret_key=TEST_SECRET, now=at
    )
    assert codes is not None
    db.commit()
    return secret, codes


def use(db: Session, user: StaffUser, given: str, at: datetime) -> bool:
    used = second_factor.use_code(db, user, given, secret_key=TEST_SECRET, now=at)
    db.commit()
    return used


def test_setting_up_keeps_one_secret_until_a_right_code_turns_it_on(
    db: Session, user: StaffUser
) -> None:
    secret = second_factor.begin_enrolment(db, user, secret_key=TEST_SECRET)
    assert len(secret) == 32  # base32: 160 bits
    assert second_factor.begin_enrolment(db, user, secret_key=TEST_SECRET) == secret  # a reload
    assert not second_factor.enrolled(user)
    wrong = second_factor.finish_enrolment(
        db, user, code(secret, START, 2), secret_key=TEST_SECRET, now=START
    )
    assert wrong is None
    assert not second_factor.enrolled(user)
    codes = second_factor.finish_enrolment(
        db, user, code(secret, START), secret_key=TEST_SECRET, now=START
    )
    assert codes is not None
    assert len(codes) == second_factor.RECOVERY_CODE_COUNT == 10
    assert user.totp_enrolled_at == START
    with pytest.raises(ValueError, match="set up already"):
        second_factor.begin_enrolment(db, user, secret_key=TEST_SECRET)


def test_the_code_that_turned_it_on_does_not_sign_in(db: Session, user: StaffUser) -> None:
    secret, _ = enrol(db, user)
    assert not use(db, user, code(secret, START), START)
    assert use(db, user, code(secret, START, 1), START)  # the next step's, a little early


def test_codes_of_one_step_before_or_after_are_accepted_and_no_further(
    db: Session, user: StaffUser
) -> None:
    secret, _ = enrol(db, user, START - timedelta(minutes=10))
    assert not use(db, user, code(secret, START, -2), START)
    assert not use(db, user, code(secret, START, 2), START)
    assert use(db, user, code(secret, START, -1), START)
    assert use(db, user, code(secret, START, 1), START)


def test_a_code_is_accepted_once_and_no_older_one_after_it(db: Session, user: StaffUser) -> None:
    secret, _ = enrol(db, user, START - timedelta(minutes=10))
    now = code(secret, START)
    assert use(db, user, now, START)
    assert not use(db, user, now, START)  # replayed in its own step
    assert not use(db, user, now, START + timedelta(seconds=25))  # ...and in the next
    assert not use(db, user, code(secret, START, -1), START)  # an older step's
    assert user.totp_last_step == second_factor.time_step(START)


def test_two_requests_with_one_code_cannot_both_sign_in(
    db: Session, engine: Engine, user: StaffUser
) -> None:
    """Each request read the account before the other stored its step: the database decides."""
    secret, _ = enrol(db, user, START - timedelta(minutes=10))
    given = code(secret, START)
    with Session(engine) as first, Session(engine) as second:
        one = first.get_one(StaffUser, user.id)
        other = second.get_one(StaffUser, user.id)
        assert one.totp_last_step == other.totp_last_step
        assert second_factor.use_code(first, one, given, secret_key=TEST_SECRET, now=START)
        first.commit()
        assert not second_factor.use_code(second, other, given, secret_key=TEST_SECRET, now=START)
        second.commit()


@pytest.mark.parametrize("given", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_what_is_not_six_digits_is_never_a_code(db: Session, user: StaffUser, given: str) -> None:
    enrol(db, user, START - timedelta(minutes=10))
    assert not use(db, user, given, START)


def test_a_code_with_a_space_in_the_middle_is_accepted(db: Session, user: StaffUser) -> None:
    secret, _ = enrol(db, user, START - timedelta(minutes=10))
    given = code(secret, START)
    assert use(db, user, f" {given[:3]} {given[3:]} ", START)


def test_the_secret_is_stored_encrypted_for_its_account_and_key(
    db: Session, user: StaffUser, clinic: Clinic
) -> None:
    secret, _ = enrol(db, user, START - timedelta(minutes=10))
    stored = db.get_one(StaffUser, user.id).totp_secret
    assert stored is not None
    assert secret not in stored
    assert secret.lower() not in stored.lower()
    # Another SECRET_KEY cannot read it, so no code is accepted...
    other_key = "another-secret-key-that-is-long-enough-0123456789"
    given = code(secret, START)
    assert not second_factor.use_code(db, user, given, secret_key=other_key, now=START)
    # ...nor can the same ciphertext be read as another account's.
    other, _ = accounts.create_user(
        db, clinic_id=clinic.id, email="bo@riverside.example", role="admin", password="p" * 12
    )
    other.totp_secret = stored
    other.totp_enrolled_at = START
    assert not second_factor.use_code(db, other, given, secret_key=TEST_SECRET, now=START)
    assert second_factor.use_code(db, user, given, secret_key=TEST_SECRET, now=START)


def test_each_recovery_code_works_once_typed_any_way_and_is_kept_only_as_a_hash(
    db: Session, user: StaffUser
) -> None:
    _, codes = enrol(db, user)
    assert len(set(codes)) == 10
    for shown in codes:
        assert len(shown) == 19  # XXXX-XXXX-XXXX-XXXX
        assert set(shown.replace("-", "")) <= set(second_factor.RECOVERY_ALPHABET)
    stored = [row.code_hash for row in db.exec(select(StaffRecoveryCode)).all()]
    assert len(stored) == 10
    assert not any(shown.replace("-", "") in "".join(stored) for shown in codes)

    typed = codes[0].lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert second_factor.use_recovery_code(db, user, typed, now=START)
    assert not second_factor.use_recovery_code(db, user, codes[0], now=START)
    assert second_factor.recovery_codes_left(db, user) == 9
    assert not second_factor.use_recovery_code(db, user, "0000-0000-0000-0000", now=START)


def test_new_recovery_codes_replace_the_old_ones(db: Session, user: StaffUser) -> None:
    _, old = enrol(db, user)
    new = second_factor.new_recovery_codes(db, user, now=START)
    assert not set(old) & set(new)
    assert not second_factor.use_recovery_code(db, user, old[1], now=START)
    assert second_factor.use_recovery_code(db, user, new[1], now=START)


def test_another_account_s_recovery_code_does_not_work(
    db: Session, user: StaffUser, clinic: Clinic
) -> None:
    _, codes = enrol(db, user)
    other, _ = accounts.create_user(
        db, clinic_id=clinic.id, email="bo@riverside.example", role="admin", password="p" * 12
    )
    enrol(db, other)
    assert not second_factor.use_recovery_code(db, other, codes[0], now=START)


def test_a_reset_removes_the_second_factor_its_codes_and_the_sessions(
    db: Session, user: StaffUser
) -> None:
    secret, codes = enrol(db, user)
    staff_sessions.start_session(db, user, now=START)
    kept = staff_sessions.start_session(db, user, now=START)
    kept_id = db.exec(
        select(StaffSession.id).where(StaffSession.token_hash == hash_token(kept))
    ).one()
    second_factor.reset(db, user, keep_session_id=kept_id)
    db.commit()
    assert not second_factor.enrolled(user)
    assert user.totp_secret is None
    assert db.exec(select(StaffRecoveryCode)).all() == []
    assert [s.id for s in db.exec(select(StaffSession)).all()] == [kept_id]
    assert not second_factor.use_code(
        db, user, code(secret, START, 1), secret_key=TEST_SECRET, now=START
    )
    assert not second_factor.use_recovery_code(db, user, codes[0], now=START)
    # Setting up again gives a new secret.
    assert second_factor.begin_enrolment(db, user, secret_key=TEST_SECRET) != secret


def test_admins_must_have_a_second_factor_and_clinicians_when_their_clinic_says(
    db: Session, user: StaffUser, clinic: Clinic
) -> None:
    clinician, _ = accounts.create_user(
        db, clinic_id=clinic.id, email="bo@riverside.example", role="clinician", password="p" * 12
    )
    assert second_factor.must_enrol(user, clinic)
    assert not second_factor.must_enrol(clinician, clinic)
    assert second_factor.set_required_for_clinicians(db, clinic, True)
    assert not second_factor.set_required_for_clinicians(db, clinic, True)  # no change
    assert second_factor.must_enrol(clinician, clinic)
    enrol(db, clinician)
    assert not second_factor.must_enrol(clinician, clinic)
