"""The signed values signing in keeps in the browser (app/services/sign_in_tokens.py): read
back only as made, with this SECRET_KEY, for this purpose, and not after their lifetime."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from app.services import sign_in_tokens as tokens
from tests.conftest import TEST_SECRET

NOW = datetime.fromisoformat("2026-12-07T09:00:00+00:00")
USER = uuid.UUID("12345678-1234-5678-1234-567812345678")


def test_a_device_cookie_names_its_account_and_a_random_device_for_a_year() -> None:
    value = tokens.device_token(TEST_SECRET, USER, now=NOW)
    device = tokens.read_device(TEST_SECRET, value, now=NOW + timedelta(days=364))
    assert device is not None
    assert device.user_id == USER
    other = tokens.read_device(
        TEST_SECRET, tokens.device_token(TEST_SECRET, USER, now=NOW), now=NOW
    )
    assert other is not None
    assert other.device_id != device.device_id
    assert tokens.read_device(TEST_SECRET, value, now=NOW + tokens.DEVICE_LIFETIME) is None


def test_a_changed_forged_or_misused_value_is_not_read() -> None:
    value = tokens.device_token(TEST_SECRET, USER, now=NOW)
    fields, _, signature = value.rpartition(".")
    someone_else = fields.replace(USER.hex, uuid.uuid4().hex)
    assert tokens.read_device(TEST_SECRET, f"{someone_else}.{signature}", now=NOW) is None
    assert tokens.read_device("another-key-" * 4, value, now=NOW) is None
    assert tokens.read_pending(TEST_SECRET, value, now=NOW) is None  # another purpose
    for junk in (None, "", ".", "a.b.c.d", "x" * 300):
        assert tokens.read_device(TEST_SECRET, junk, now=NOW) is None


def test_a_half_done_sign_in_lasts_ten_minutes() -> None:
    value = tokens.pending_token(TEST_SECRET, USER, now=NOW)
    pending = tokens.read_pending(TEST_SECRET, value, now=NOW + timedelta(minutes=9))
    assert pending is not None
    assert pending.user_id == USER
    assert tokens.read_pending(TEST_SECRET, value, now=NOW + timedelta(minutes=10)) is None
