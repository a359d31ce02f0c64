"""An assessment's check-ins as stored, read: all of them, those the next check-in is worked
out from, when each was stored, one by id, and a page of them. Storing one is checkins.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import bindparam, case
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, func, select

from app.i18n import BASE_LANGUAGE
from app.models import Checkin

# Built once: the result page and every check-in read it (see assessments._BY_TOKEN).
_OF_ASSESSMENT: Final = (
    select(Checkin)
    .where(col(Checkin.assessment_id) == bindparam("assessment_id"))
    .order_by(col(Checkin.created_at), col(Checkin.id))
)


def list_checkins(session: Session, assessment_id: uuid.UUID) -> list[Checkin]:
    return list(session.exec(_OF_ASSESSMENT, params={"assessment_id": assessment_id}).all())


# What working out the next check-in reads of the earlier ones: their answers and times, and
# the newest one's result (the plan moves on from it, current_plan); an older result only if
# read (after a warning sign, which leaves no plan). Decoding each earlier ~27 kB result made
# a check-in's cost grow with its history: 0.7 ms of the service's time with none before it,
# 6.3 ms after 48 (SQLite). The newest result comes in the same statement: read on its own, it
# was a round trip more on PostgreSQL (0.3-0.7 ms with 1-3 before it), and a check-in deleted
# between the two would have been an error.
_NEWEST_ID = (
    select(Checkin.id)
    .where(col(Checkin.assessment_id) == bindparam("assessment_id"))
    .order_by(col(Checkin.created_at).desc(), col(Checkin.id).desc())
    .limit(1)
    .scalar_subquery()
)
# (SQLModel types a column's attribute as its value: hence the ignores.)
_RESULT = Checkin.__table__.c.result  # type: ignore[attr-defined]
_SO_FAR: Final = (
    select(Checkin, case((col(Checkin.id) == _NEWEST_ID, _RESULT)))
    .where(col(Checkin.assessment_id) == bindparam("assessment_id"))
    .order_by(col(Checkin.created_at), col(Checkin.id))
    .options(defer(Checkin.result))  # type: ignore[arg-type]
)


def checkins_so_far(session: Session, assessment_id: uuid.UUID) -> list[Checkin]:
    """The assessment's check-ins, oldest first, with the newest one's result; the others' are
    loaded only if read."""
    rows = session.exec(_SO_FAR, params={"assessment_id": assessment_id}).all()
    if rows:
        newest, result = rows[-1]
        set_committed_value(newest, "result", result)
    return [checkin for checkin, _ in rows]


def checkins_shown(session: Session, assessment_id: uuid.UUID, language: str) -> list[Checkin]:
    """The check-ins a person's page in ``language`` shows. In English it shows stored results
    as they are, and reads only the ones it shows: the newest's is loaded with the list
    (``checkins_so_far``), another on reading it. In another language each is worked out again
    and checked against its stored one (result_language), so every result is loaded at once."""
    if language == BASE_LANGUAGE:
        return checkins_so_far(session, assessment_id)
    return list_checkins(session, assessment_id)


def checkin_times(session: Session, assessment_id: uuid.UUID) -> list[datetime]:
    """When each of the assessment's check-ins was stored, oldest first."""
    query = select(Checkin.created_at).where(col(Checkin.assessment_id) == assessment_id)
    return list(session.exec(query.order_by(col(Checkin.created_at), col(Checkin.id))).all())


def get_checkin(session: Session, assessment_id: uuid.UUID, checkin_id: str) -> Checkin | None:
    """This assessment's check-in with that id (None for another's, or for no such id)."""
    try:
        key = uuid.UUID(checkin_id)
    except ValueError:
        return None
    return session.exec(
        select(Checkin).where(Checkin.assessment_id == assessment_id, Checkin.id == key)
    ).first()


def checkin_page(
    session: Session, assessment_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[list[Checkin], int]:
    """One page of an assessment's check-ins, oldest first, and how many it has in all."""
    total = session.exec(
        select(func.count()).select_from(Checkin).where(Checkin.assessment_id == assessment_id)
    ).one()
    query = _OF_ASSESSMENT.offset(offset).limit(limit)
    page = session.exec(query, params={"assessment_id": assessment_id}).all()
    return list(page), int(total)
