"""API keys for other apps: creating, listing, revoking and checking them.

A key looks like ``ba_`` followed by 32 random URL-safe characters (192 bits). It is shown once,
when it is made; the database keeps only its SHA-256 hash (app.security.hash_token) and its
first characters (``key_prefix``) so that people can tell keys apart in a list.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.models import ApiClient, utcnow
from app.security import hash_token, new_token
from app.services.text import control_character_problem

KEY_PREFIX: Final = "ba_"
PREFIX_LENGTH: Final = 10  # "ba_" and 7 random characters: enough to tell keys apart
# What a well-formed key looks like; anything else is refused before the database is asked.
KEY_PATTERN: Final = re.compile(r"^ba_[A-Za-z0-9_-]{32}$")
# What a key may be granted beyond reading. Every key reads (and writes) what it stored; a
# clinic key also reads the clinic's submissions, and stores check-ins only with this.
CHECKINS_WRITE: Final = "checkins:write"
SCOPES: Final = (CHECKINS_WRITE,)


class ApiKeyNotFoundError(LookupError):
    """No key matches (or more than one does, for a prefix)."""


def create_api_key(
    session: Session,
    *,
    name: str,
    clinic_id: uuid.UUID | None = None,
    scopes: Sequence[str] = (),
) -> tuple[ApiClient, str]:
    """A new API client and its key. The key is returned only here: store it safely."""
    if problem := name_problem(name):
        raise ValueError(problem)
    if unknown := [s for s in scopes if s not in SCOPES]:
        raise ValueError(f"Unknown scope {unknown[0]!r} (scopes: {', '.join(SCOPES)})")
    name = name.strip()
    key = KEY_PREFIX + new_token(24)
    client = ApiClient(
        name=name,
        clinic_id=clinic_id,
        key_prefix=key[:PREFIX_LENGTH],
        key_hash=hash_token(key),
        scopes=" ".join(sorted(set(scopes))),
    )
    session.add(client)
    session.flush()
    return client, key


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a key, for people; None if it can."""
    name = name.strip()
    if not name:
        return "Enter a name for the app that will use the key"
    return control_character_problem(name)


def list_api_keys(session: Session) -> list[ApiClient]:
    """Every API client, newest first (revoked ones too, so the list tells the whole story)."""
    return list(session.exec(select(ApiClient).order_by(col(ApiClient.created_at).desc())).all())


def find_api_key(session: Session, *, prefix_or_id: str) -> ApiClient:
    """The one client whose id or key prefix is ``prefix_or_id``; ApiKeyNotFoundError if none,
    or if a prefix is shared (then the caller should give the id)."""
    text = prefix_or_id.strip()
    try:
        by_id = session.get(ApiClient, uuid.UUID(text))
    except ValueError:
        by_id = None
    if by_id is not None:
        return by_id
    matches = session.exec(select(ApiClient).where(ApiClient.key_prefix == text)).all()
    if len(matches) != 1:
        raise ApiKeyNotFoundError(
            f"no API key has the prefix or id {text!r}"
            if not matches
            else f"{len(matches)} keys share the prefix {text!r}: give the id instead"
        )
    return matches[0]


def revoke_api_key(session: Session, *, prefix_or_id: str) -> ApiClient:
    """Revoke a key now; it is refused from the next request on. Revoking twice is harmless."""
    client = find_api_key(session=session, prefix_or_id=prefix_or_id)
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        session.add(client)
        session.flush()
    return client


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling the API: what a request needs to know about its client."""

    id: uuid.UUID
    name: str
    clinic_id: uuid.UUID | None
    scopes: frozenset[str] = frozenset()

    @property
    def may_write_checkins(self) -> bool:
        """A clinic key reads the clinic's submissions but was documented as read-only: it
        stores check-ins only when granted the scope. A key of no clinic writes its own."""
        return self.clinic_id is None or CHECKINS_WRITE in self.scopes


def authenticate(session: Session, *, key: str) -> Caller | None:
    """The active client for a presented key, or None (malformed, unknown or revoked).

    Runs for every authenticated request: one statement reads three columns, with no ORM
    objects."""
    key_hash = presented_key_hash(key)
    if key_hash is None:
        return None
    row = session.connection().execute(_BY_KEY_HASH, {"key_hash": key_hash}).first()
    if row is None:
        return None
    return Caller(row.id, row.name, row.clinic_id, frozenset(row.scopes.split()))


def presented_key_hash(key: str) -> str | None:
    """The hash to look a presented key up by; None when it cannot be a key (so the database
    is not asked)."""
    return hash_token(key) if KEY_PATTERN.match(key) else None


_BY_KEY_HASH = select(ApiClient.id, ApiClient.name, ApiClient.clinic_id, ApiClient.scopes).where(
    col(ApiClient.key_hash) == bindparam("key_hash"),
    col(ApiClient.revoked_at).is_(None),
)


def list_clinic_api_keys(session: Session, *, clinic_id: uuid.UUID) -> list[ApiClient]:
    """A clinic's own keys, newest first: what its admins may see."""
    return list(
        session.exec(
            select(ApiClient)
            .where(ApiClient.clinic_id == clinic_id)
            .order_by(col(ApiClient.created_at).desc())
        ).all()
    )


def get_clinic_api_key(session: Session, *, clinic_id: uuid.UUID, key_id: str) -> ApiClient | None:
    """A key of this clinic, or None: another clinic's keys do not exist here."""
    try:
        client = session.get(ApiClient, uuid.UUID(key_id))
    except ValueError:
        return None
    return client if client is not None and client.clinic_id == clinic_id else None
