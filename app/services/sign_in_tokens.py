"""Signed values that signing in keeps in the browser, not on the server:

- the known-device cookie: this browser signed in to this account before (the account's id, a
  random id for the device, when it was made). Its attempts at that account are throttled
  apart from everyone else's (app/services/login_throttle.py), so a stranger cannot hold it up. It grants
  nothing else: the password, and the second factor, are still asked for.
- the half-done sign-in: the password was right, the second factor is still to come (the
  account's id, a random nonce for the code form's token, when the password was checked).

Each is ``fields.signature``, the signature an HMAC-SHA256 with SECRET_KEY over the fields for
its purpose (app/security.py), and each says when it was made, so that it ends on the server
whatever a browser does with its cookie.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from app.security import new_token, sign, verify

DEVICE_LIFETIME: Final = timedelta(days=365)  # renewed at each sign-in
PENDING_LIFETIME: Final = timedelta(minutes=10)  # between the password and the code


@dataclass(frozen=True, slots=True)
class Device:
    user_id: uuid.UUID
    device_id: str


@dataclass(frozen=True, slots=True)
class Pending:
    user_id: uuid.UUID
    nonce: str


def device_token(secret_key: str, user_id: uuid.UUID, *, now: datetime) -> str:
    return _signed(secret_key, "staff-device", user_id, new_token(16), now)


def read_device(secret_key: str, token: str | None, *, now: datetime) -> Device | None:
    read = _read(secret_key, "staff-device", token, DEVICE_LIFETIME, now)
    return Device(*read) if read else None


def pending_token(secret_key: str, user_id: uuid.UUID, *, now: datetime) -> str:
    return _signed(secret_key, "staff-sign-in-pending", user_id, new_token(16), now)


def read_pending(secret_key: str, token: str | None, *, now: datetime) -> Pending | None:
    read = _read(secret_key, "staff-sign-in-pending", token, PENDING_LIFETIME, now)
    return Pending(*read) if read else None


def _signed(secret_key: str, purpose: str, user_id: uuid.UUID, nonce: str, now: datetime) -> str:
    value = f"{user_id.hex}.{nonce}.{int(now.timestamp())}"
    return f"{value}.{sign(secret_key, purpose, value)}"


def _read(
    secret_key: str, purpose: str, token: str | None, lifetime: timedelta, now: datetime
) -> tuple[uuid.UUID, str] | None:
    """The account's id and the random part, if the signature is right and the value is not
    older than ``lifetime``."""
    value, _, signature = (token or "").rpartition(".")
    if not value or not verify(secret_key, purpose, value, signature):
        return None
    user_hex, nonce, made = value.split(".")  # signed: the form is ours
    age = now.timestamp() - int(made)
    if not -60 <= age < lifetime.total_seconds():  # (a worker's clock may be a little behind)
        return None
    return uuid.UUID(hex=user_hex), nonce
