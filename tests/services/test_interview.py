"""The interview service: the rules every door follows (the web form and intake pages, and
the API's ``next``)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.engine import Questionnaire, evaluate
from app.models import Assessment, Draft
from app.services import interview
from app.services.interview import Origin
from app.services.questionnaires import Registry
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO

WEB = Origin("web")


def test_an_emergency_stops_even_with_a_problem_in_another_answer(q: Questionnaire) -> None:
    given = {**SAFETY_ALL_NO, "saddle_numbness": True, "age": 300}
    evaluation = evaluate(q, given)
    assert evaluation.stopped
    assert evaluation.problems

    finished = interview.emergency_stop(evaluation, given)

    assert finished is not None
    assert finished.stopped
    assert not finished.problems
    assert interview.triage_so_far(finished).code == "emergency"


def test_no_emergency_no_stop(q: Questionnaire) -> None:
    evaluation = evaluate(q, SAFETY_ALL_NO)
    assert interview.emergency_stop(evaluation, SAFETY_ALL_NO) is None


@pytest.mark.parametrize(
    ("answers", "finished", "next_page"),
    [
        ({}, False, "about_you"),
        ({"age": 42}, False, "emergency_signs"),
        ({"saddle_numbness": True}, True, None),
        (EXAMPLE_ANSWERS, True, None),
    ],
)
def test_standing_says_what_comes_next(
    q: Questionnaire, answers: dict[str, object], finished: bool, next_page: str | None
) -> None:
    standing = interview.standing(q, answers)
    assert (standing.finished is not None) == finished
    assert (standing.next_page.id if standing.next_page else None) == next_page


def test_a_doctor_level_is_told_once_the_safety_screen_is_done(q: Questionnaire) -> None:
    partway = evaluate(q, {k: SAFETY_ALL_NO[k] for k in ("saddle_numbness", "bladder_change")})
    assert interview.doctor_level(partway) is None  # the safety screen is not done yet
    fever = evaluate(q, {**SAFETY_ALL_NO, "fever": True})
    level = interview.doctor_level(fever)
    assert level is not None
    assert level.code != q.self_care_level
    assert interview.reasons_so_far(fever)


def test_answering_the_emergency_page_records_at_once_and_drops_the_draft(
    db: Session, registry: Registry, q: Questionnaire
) -> None:
    first = interview.resume(registry, None)
    about_you, page = q.pages[0], q.pages[1]
    assert page.id == "emergency_signs"
    answered_first = interview.answer_page(
        db, WEB, first, about_you, {"age": 42}, (), form_has_errors=False, changing=False
    )
    assert isinstance(answered_first, interview.GoTo)
    assert answered_first.new_draft_token
    assert answered_first.next_page == page
    draft = db.exec(select(Draft)).one()

    again = interview.resume(registry, draft)
    # The form's problems with another answer do not hold the emergency advice up.
    answered = interview.answer_page(
        db, WEB, again, page, {"saddle_numbness": True}, (), form_has_errors=True, changing=False
    )
    db.commit()

    assert isinstance(answered, interview.Finished)
    assert answered.recorded.result["triage"]["level"] == "emergency"
    assert db.exec(select(Draft)).all() == []
    assert db.exec(select(Assessment)).one().id == answered.recorded.id


def test_a_page_with_the_form_s_problems_and_no_emergency_stores_nothing(
    db: Session, registry: Registry, q: Questionnaire
) -> None:
    first = interview.resume(registry, None)
    answered = interview.answer_page(
        db, WEB, first, q.pages[1], {"saddle_numbness": False}, (), form_has_errors=True,
        changing=False,
    )  # fmt: skip

    assert isinstance(answered, interview.ShowErrors)
    assert db.exec(select(Draft)).all() == []


def test_stored_answers_are_listed_in_question_order_as_stored(q: Questionnaire) -> None:
    """A stored record is shown as it was stored: the definition gives the order and the
    words, never a new evaluation (which could hide an answer that today's branching hides)."""
    stored = {"fever": True, "saddle_numbness": False, "age": 40}
    rows = interview.answer_rows(q, stored)
    listed = [row.question.id for _, section in rows for row in section]
    assert listed == ["age", "saddle_numbness", "fever"]
    assert [row.value for _, section in rows for row in section] == [40, False, True]
