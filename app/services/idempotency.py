"""Idempotency-Key: a retry of an API request returns what the first one stored, for
assessments and check-ins alike.

A request with a key carries a fingerprint of what it asked for. An earlier record with the
same caller's key is replayed when its fingerprint matches, and is a conflict otherwise (the
key was reused for other answers). Two requests with the same key can both find no earlier
record: the database's unique constraint lets one insert, and the other answers with the
winner's record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session


class IdempotencyConflictError(Exception):
    """The Idempotency-Key was already used by this client for a different request."""


class Fingerprinted(Protocol):
    """A stored record (an assessment, a check-in) with the fingerprint of its request."""

    @property
    def request_hash(self) -> str | None: ...


StoredT = TypeVar("StoredT", bound=Fingerprinted)


@dataclass(frozen=True, slots=True)
class KeyedRequest(Generic[StoredT]):
    """A request sent with an Idempotency-Key: its fingerprint, and how to find the record its
    caller stored earlier with the same key (``find`` reads the caller's own records only:
    another app's same key is another request)."""

    key: str
    fingerprint: str
    find: Callable[[Session], StoredT | None]


def request_hash(questionnaire_id: str, answers: Mapping[str, Any]) -> str:
    """A fingerprint of what was asked for, to tell a retry from a different request that
    reuses an Idempotency-Key (key order and spacing do not matter)."""
    canonical = json.dumps(
        {"questionnaire": questionnaire_id, "answers": answers},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def stored_before(session: Session, request: KeyedRequest[StoredT] | None) -> StoredT | None:
    """The record this request's key stored earlier, to answer with instead of storing again;
    None when there is none (or no key). IdempotencyConflictError if it was another request."""
    if request is None:
        return None
    earlier = request.find(session)
    return None if earlier is None else _replayable(earlier, request)


def insert_once(
    session: Session, request: KeyedRequest[StoredT] | None, insert: Callable[[], object]
) -> StoredT | None:
    """Run ``insert``; None when it stored the row. When a request with the same key stored
    its row first (the unique constraint refuses this one), the winner's record, or
    IdempotencyConflictError if the winner asked for something else.

    Losing rolls the session's transaction back to read the winner, so a caller with a key
    must not have written anything else in it before (the API writes nothing else)."""
    try:
        insert()
    except IntegrityError:
        if request is None:
            raise
        session.rollback()
        winner = request.find(session)
        if winner is None:
            raise
        return _replayable(winner, request)
    return None


def _replayable(earlier: StoredT, request: KeyedRequest[StoredT]) -> StoredT:
    if earlier.request_hash != request.fingerprint:
        raise IdempotencyConflictError
    return earlier
