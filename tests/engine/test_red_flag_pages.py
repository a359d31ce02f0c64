"""Where the red-flag questions are (issue 26): every answer that alone means an emergency is on
the first page of warning signs, so one tap and Continue reach the emergency advice; the other
warning-sign pages ask at most 4 questions, so a missed answer gives a short error summary.
Found from the rules, not from a list: a new emergency sign on a later page fails here."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine import Question, Questionnaire, evaluate

from .support import checkin_questionnaire, questionnaire

AUDIT = questionnaire()
CHECKIN = checkin_questionnaire()
# What the check-in knows from the assessment: no past cancer (with it, new leg weakness or
# pain below the knee is an emergency too: see below).
CONTEXT: dict[str, Any] = {"cancer_history": False, "age": 40, "pregnant_at_start": False}


def _no(question: Question) -> Any:
    if question.type == "boolean":
        return False
    if question.type == "integer":
        return 42
    return "no"


def emergency_answers(q: Questionnaire, context: dict[str, Any]) -> dict[str, list[Any]]:
    """Each warning-sign question and the answers of it that alone stop the interview."""
    safety = [x for page in q.sections[0].pages for x in page.questions]
    none = {x.id: _no(x) for x in safety}
    found: dict[str, list[Any]] = {}
    for question in safety:
        values = [True] if question.type == "boolean" else [o.code for o in question.options]
        for value in values:
            context_ = {k: v for k, v in context.items() if k in q.context}
            if evaluate(q, {**none, question.id: value}, context_).stopped:
                found.setdefault(question.id, []).append(value)
    return found


@pytest.mark.parametrize(
    ("q", "first"),
    [(AUDIT, "emergency_signs"), (CHECKIN, "checkin_safety")],
    ids=["audit", "check-in"],
)
def test_every_emergency_answer_is_on_the_first_warning_sign_page(
    q: Questionnaire, first: str
) -> None:
    signs = emergency_answers(q, CONTEXT)
    page = next(p for p in q.sections[0].pages if p.id == first)
    assert set(signs) == {x.id for x in page.questions if x.id in signs}
    assert len(signs) >= 7
    # Nothing else is asked there but these signs.
    assert {x.id for x in page.questions} == set(signs)


@pytest.mark.parametrize("q", [AUDIT, CHECKIN], ids=["audit", "check-in"])
def test_the_other_warning_sign_pages_ask_at_most_4_questions(q: Questionnaire) -> None:
    signs = emergency_answers(q, CONTEXT)
    for page in q.sections[0].pages:
        if not any(x.id in signs for x in page.questions):
            assert len(page.questions) <= 4, page.id


def test_after_cancer_the_check_ins_leg_signs_come_on_the_page_after_the_emergency_signs() -> None:
    """Past cancer makes new leg weakness or leg symptoms an emergency (cord compression): those
    come on the second page, before the other signs."""
    signs = emergency_answers(CHECKIN, {**CONTEXT, "cancer_history": True})
    second = CHECKIN.sections[0].pages[1]
    assert {"leg_weakness", "new_leg_symptoms"} <= set(signs)
    assert {"leg_weakness", "new_leg_symptoms"} <= {x.id for x in second.questions}
