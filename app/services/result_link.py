"""What a result's private link opens, read in one call: the record (the newest of its line of
corrections), its clinic, its check-ins, and what the result page says about them.

One call, not one per fact: on PostgreSQL each call is a hop to the thread pool, and the
result page is the page a person opens most (and again from the e-mailed link, the PDF's QR
code, every check-in)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.models import Assessment, Checkin, Clinic, ResultContact

from . import assessments, checkin_history, corrections, intake, keep
from .result_language import PageLanguage


@dataclass(frozen=True)
class ResultRecord:
    """A result and what is shown with it on its page and in its PDF."""

    assessment: Assessment
    clinic: Clinic | None
    checkins: list[Checkin]


@dataclass(frozen=True)
class ResultPage(ResultRecord):
    """A result as its page shows it: the above, and the page's offers."""

    asks_contact: bool  # the reusable link's "how can the clinic reach you" form
    contact: ResultContact | None  # read only just after "send me this link" (``contact_sent``)
    correction_closed: corrections.ClosedReason | None  # None: "I answered by mistake" offered
    replaced: Assessment | None  # the result this one corrected, if any


def clinic_of(session: Session, assessment: Assessment) -> Clinic | None:
    return None if assessment.clinic_id is None else session.get(Clinic, assessment.clinic_id)


def open_record(session: Session, token: str, page_language: PageLanguage) -> ResultRecord | None:
    """The result behind ``token`` with its clinic and check-ins; None for no such link.
    ``page_language``: the language its page will be in, given the one it was made in."""
    assessment = assessments.get_by_result_token(session, token)
    if assessment is None:
        return None
    shown = checkin_history.checkins_shown(
        session, assessment.id, page_language(assessment.language)
    )
    return ResultRecord(assessment, clinic_of(session, assessment), shown)


def open_page(
    session: Session,
    token: str,
    rules: corrections.CorrectionRules,
    page_language: PageLanguage,
    *,
    contact_sent: bool,
) -> ResultPage | None:
    """The result page's whole read; None for no such link."""
    record = open_record(session, token, page_language)
    if record is None:
        return None
    assessment = record.assessment
    return ResultPage(
        assessment,
        record.clinic,
        record.checkins,
        asks_contact=intake.asks_for_contact(session, assessment),
        contact=keep.contact_of(session, assessment) if contact_sent else None,
        correction_closed=corrections.why_not_correctable(session, assessment, rules),
        replaced=assessments.replaced_record(session, assessment),
    )
