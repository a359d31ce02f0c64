"""A clinic's queue of submissions: the page staff work through, one submission, the urgent
count, and review marks.

Every query here takes the clinic's id and filters by it, so no page or export can reach
another clinic's rows; an id from another clinic reads as "not found".

A patient's follow-up check-ins come back to the same submission. One that did not end in
self-care (a red flag, "worse", "not improving") flags its submission like a level until staff
review the submission again: a check-in counts as reviewed when the submission's review is
newer than it. Nothing is written when a check-in arrives; the flags are read from the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Final

from sqlalchemy import Subquery, and_, case, false, literal, not_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, or_, select

from app.clock import Clock, system_clock
from app.models import Assessment, Checkin, IntakeLink, StaffUser, SubmissionSeen, utcnow
from app.services import audit
from app.services.assessments import hold
from app.services.filters import Filters, not_replaced_or_unreviewed, unreviewed_checkin

PER_PAGE: Final = 25
NOT_URGENT: Final = 1000  # past every level's rank: the rest of the queue sorts as one group


def checkin_flags(
    clinic_id: uuid.UUID, urgent: Collection[str], flagging: Collection[str]
) -> Subquery:
    """Per submission with flagged check-ins not reviewed yet: the most urgent one's rank, the
    most urgent urgent one's rank (NOT_URGENT if none) and when the latest came. A few rows: a
    clinic's flagged check-ins, found by the triage level index."""
    return (
        select(
            col(Checkin.assessment_id).label("assessment_id"),
            func.min(Checkin.triage_rank).label("rank"),
            func.min(
                case(
                    (col(Checkin.triage_level).in_(urgent), col(Checkin.triage_rank)),
                    else_=NOT_URGENT,
                )
            ).label("urgent_rank"),
            func.max(Checkin.created_at).label("at"),
        )
        .join(Assessment, col(Assessment.id) == col(Checkin.assessment_id))
        .where(
            col(Assessment.clinic_id) == clinic_id,
            col(Checkin.triage_level).in_(flagging),
            unreviewed_checkin(),
        )
        .group_by(col(Checkin.assessment_id))
        .subquery("flags")
    )


def _queue_order(urgent: Collection[str], flags: Subquery) -> list[Any]:
    """The urgent levels first, most urgent first (a person may need help today), then
    everything else together, newest first. ``urgent``: the level codes the definitions mark
    urgent. A check-in not reviewed yet counts as its submission's level and time."""
    own = (
        case(
            (col(Assessment.triage_level).in_(urgent), col(Assessment.triage_rank)),
            else_=NOT_URGENT,
        )
        if urgent
        else literal(NOT_URGENT)
    )
    flagged = func.coalesce(flags.c.urgent_rank, NOT_URGENT)
    return [
        case((flagged < own, flagged), else_=own),
        func.coalesce(flags.c.at, col(Assessment.created_at)).desc(),
        col(Assessment.id),
    ]


@dataclass(frozen=True, slots=True)
class Submission:
    assessment: Assessment
    patient_reference: str | None
    reviewed_by: str | None  # e-mail of the staff member
    reusable_link: bool = False  # came through a reusable ("poster") link: who is it?
    # A check-in not reviewed yet that needs the clinic: when the latest such came.
    flagged_at: datetime | None = None
    # The person corrected it (a mis-tapped emergency answer): when, by the newer record's time.
    corrected_at: datetime | None = None
    # It is a correction: the earlier record it replaced, when that came and at what level.
    replaces_id: uuid.UUID | None = None
    replaces_at: datetime | None = None
    replaces_level: str | None = None

    @property
    def contact_missing(self) -> bool:
        """A reusable link's submission whose sender gave no name and contact (yet)."""
        return self.reusable_link and self.assessment.patient_name is None

    @property
    def needs_review(self) -> bool:
        """Never reviewed, or a flagged check-in came after the review."""
        return self.assessment.reviewed_at is None or self.flagged_at is not None


def list_submissions(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    filters: Filters,
    urgent: Collection[str],
    flagging: Collection[str] = (),
    page: int = 1,
    zone: tzinfo = UTC,
) -> tuple[list[Submission], int]:
    """One page of the clinic's queue and the number of matching submissions. ``flagging``:
    the levels at which a check-in flags its submission (Registry.flag_codes)."""
    flags = checkin_flags(clinic_id, urgent, flagging)
    conditions = filters.conditions(clinic_id, flags, flagging, zone)
    rows = session.exec(
        submission_query(conditions, flags, urgent).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    return [Submission(*row) for row in rows], _count(session, conditions, flags)


def _count(session: Session, conditions: list[ColumnElement[bool]], flags: Subquery) -> int:
    """How many submissions meet ``conditions`` (Filters.conditions over ``flags``)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Assessment)
            .outerjoin(IntakeLink, col(IntakeLink.id) == col(Assessment.intake_link_id))
            .outerjoin(flags, flags.c.assessment_id == col(Assessment.id))
            .where(*conditions)
        ).one()
    )


def submission_query(
    conditions: list[ColumnElement[bool]], flags: Subquery, urgent: Collection[str] = ()
) -> Any:
    newer = aliased(Assessment, name="newer")  # the correction that replaced it
    older = aliased(Assessment, name="older")  # the record it replaced (a line has one)
    # A Submission's fields, in order.
    columns: tuple[Any, ...] = (
        Assessment,
        IntakeLink.label,
        StaffUser.email,
        func.coalesce(not_(col(IntakeLink.single_use)), false()),
        flags.c.at,
        col(newer.created_at),
        col(older.id),
        col(older.created_at),
        col(older.triage_level),
    )
    return (
        select(*columns)
        .outerjoin(IntakeLink, col(IntakeLink.id) == col(Assessment.intake_link_id))
        .outerjoin(StaffUser, col(StaffUser.id) == col(Assessment.reviewed_by_id))
        .outerjoin(flags, flags.c.assessment_id == col(Assessment.id))
        .outerjoin(newer, col(newer.id) == col(Assessment.replaced_by_id))
        .outerjoin(older, col(older.replaced_by_id) == col(Assessment.id))
        .where(*conditions)
        .order_by(*_queue_order(urgent, flags))
    )


def get_submission(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    assessment_id: str,
    flagging: Collection[str] = (),
) -> Submission | None:
    """The clinic's submission with this id, or None (also for another clinic's id)."""
    try:
        key = uuid.UUID(assessment_id)
    except ValueError:
        return None
    flags = checkin_flags(clinic_id, (), flagging)
    conditions = [col(Assessment.clinic_id) == clinic_id, col(Assessment.id) == key]
    row = session.exec(submission_query(conditions, flags)).first()
    return None if row is None else Submission(*row)


def count_unreviewed_urgent(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    urgent: Collection[str],
    flagging: Collection[str] = (),
) -> int:
    """Submissions at an urgent level not reviewed yet, and those an urgent check-in not
    reviewed yet flags (a red flag at a follow-up)."""
    if not urgent:
        return 0
    flags = checkin_flags(clinic_id, urgent, flagging)
    return int(
        session.exec(
            select(func.count())
            .select_from(Assessment)
            .outerjoin(flags, flags.c.assessment_id == col(Assessment.id))
            .where(
                col(Assessment.clinic_id) == clinic_id,
                not_replaced_or_unreviewed(),
                or_(
                    and_(
                        col(Assessment.triage_level).in_(urgent),
                        col(Assessment.reviewed_at).is_(None),
                    ),
                    flags.c.urgent_rank < NOT_URGENT,
                ),
            )
        ).one()
    )


def unreviewed_by_level(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    levels: Sequence[str],
    flagging: Collection[str] = (),
    zone: tzinfo = UTC,
) -> list[tuple[str, int]]:
    """For each of ``levels`` (the urgent ones, most urgent first): how many submissions the
    queue filtered to that level and "not reviewed" shows, so that a count can link to its
    list and the list has as many rows as the count said."""
    flags = checkin_flags(clinic_id, (), flagging)
    return [
        (level, _count(session, chosen.conditions(clinic_id, flags, flagging, zone), flags))
        for level in levels
        for chosen in [Filters(levels=(level,), reviewed="no")]
    ]


def flagged_checkins(
    session: Session, assessments: Collection[Assessment], flagging: Collection[str]
) -> dict[uuid.UUID, Checkin]:
    """For each of these submissions, the check-in not reviewed yet that flags it (the most
    urgent; of those, the latest), if any: what the queue and the submission page show."""
    if not assessments or not flagging:
        return {}
    found: dict[uuid.UUID, Checkin] = {}
    rows = session.exec(
        select(Checkin)
        .join(Assessment, col(Assessment.id) == col(Checkin.assessment_id))
        .where(
            col(Checkin.assessment_id).in_([a.id for a in assessments]),
            col(Checkin.triage_level).in_(flagging),
            unreviewed_checkin(),
        )
        .order_by(col(Checkin.triage_rank), col(Checkin.created_at).desc())
    )
    for checkin in rows:
        found.setdefault(checkin.assessment_id, checkin)
    return found


class NewCheckinError(Exception):
    """A check-in came after the page the review was made on: it has not been read."""


def mark_seen(
    session: Session,
    assessment_id: uuid.UUID,
    *,
    by: StaffUser,
    checkins_seen: int,
    now: datetime | None = None,
) -> None:
    """``by`` has just been shown the submission with ``checkins_seen`` check-ins: a review of
    theirs covers those. Kept on the server (one row per person and submission, written in
    one statement, so two tabs opened at once cannot clash), never taken from the browser."""
    now = now or utcnow()
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"checkins_seen": checkins_seen, "seen_at": now}
    session.execute(
        make(SubmissionSeen)
        .values(staff_user_id=by.id, assessment_id=assessment_id, **values)
        .on_conflict_do_update(index_elements=["staff_user_id", "assessment_id"], set_=values)
    )


def checkins_seen(session: Session, assessment_id: uuid.UUID, *, by: StaffUser) -> int:
    """How many check-ins ``by`` was last shown on the submission's page (0: never opened)."""
    seen = session.exec(
        select(SubmissionSeen.checkins_seen).where(
            col(SubmissionSeen.staff_user_id) == by.id,
            col(SubmissionSeen.assessment_id) == assessment_id,
        )
    ).first()
    return seen or 0


def mark_reviewed(
    session: Session, assessment: Assessment, *, by: StaffUser, clock: Clock = system_clock
) -> None:
    """Mark the submission, and its check-ins so far, as reviewed; NewCheckinError if it has
    check-ins the reviewer's page has not shown them (as the server recorded, mark_seen).

    Its time is ``clock``'s (the routes give the app's clock, which times the check-ins: one
    after the review is flagged by its time), read once the row is held, as a check-in's is."""
    hold(session, assessment.id)  # a check-in recorded now waits, and comes after the review
    count = session.exec(
        select(func.count()).select_from(Checkin).where(col(Checkin.assessment_id) == assessment.id)
    ).one()
    if count > checkins_seen(session, assessment.id, by=by):
        raise NewCheckinError
    assessment.reviewed_at = clock()
    assessment.reviewed_by_id = by.id
    assessment.updated_at = assessment.reviewed_at
    session.add(assessment)
    session.flush()


def unmark_reviewed(
    session: Session, assessment: Assessment, *, clock: Clock = system_clock
) -> None:
    assessment.reviewed_at = None
    assessment.reviewed_by_id = None
    assessment.updated_at = clock()
    session.add(assessment)
    session.flush()


def set_reviewed(
    session: Session,
    assessment: Assessment,
    *,
    by: StaffUser,
    reviewed: bool,
    clock: Clock = system_clock,
) -> None:
    """Mark the submission as reviewed (or not) by ``clock`` (mark_reviewed), in the clinic's
    audit log; NewCheckinError, and nothing stored, if a check-in came that the reviewer's page
    has not shown them."""
    if reviewed:
        mark_reviewed(session, assessment, by=by, clock=clock)
    else:
        unmark_reviewed(session, assessment, clock=clock)
    action = "assessment.reviewed" if reviewed else "assessment.unreviewed"
    audit.record_by(
        session, audit.Actor.of(by), action, target_type="assessment", target_id=assessment.id
    )
