"""A stored result's texts in another language.

Results are stored as the engine made them, in English (the base language): staff read them,
and the stored record must not depend on the language a person chose. A result asked for in
another language is worked out again from the stored answers with the same version of the
questionnaire in that language: the same reader made it, so only its texts can differ. It is
used only when everything but its texts is the same as the stored result (the same level,
reasons, contributors, plan, steps and flags); otherwise the stored English result is given,
and the caller says so (``Content-Language: en``). A result is never half translated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, cast

from sqlmodel import Session

from app.engine import (
    BASE_LANGUAGE,
    RELEASED,
    AnswerError,
    CheckinResult,
    Evaluation,
    Plan,
    Result,
    build_result,
    evaluate,
)
from app.models import Assessment, Checkin
from app.services import checkin_history, checkins
from app.services.checkins import RecordedCheckin
from app.services.questionnaires import Registry, UnknownQuestionnaireError

# The keys of a result whose values are texts for the person (or lists of them): these may
# differ between languages; every other value must be the same.
TEXT_FIELDS: Final = frozenset(
    {
        "title",
        "advice",
        "message",
        "label",
        "why",
        "summary",
        "dose",
        "how",
        "cues",
        "mistakes",
        "progress_when",
        "image_alt",
        "cautions",
        "signs",
        "action",
        "see_gp",
    }
)

log = logging.getLogger("backaudit")

# The language a result's page is in, given the one the result was made in: the door knows
# what the person chose. What a call words or stores in it must be in the page's.
PageLanguage = Callable[[str], str]


def same_but_texts(ours: Any, theirs: Any, key: str | None = None) -> bool:
    """Whether two results are the same in everything but their texts: the same keys, the
    same codes, numbers and flags, lists of the same length, and texts where texts are."""
    if key in TEXT_FIELDS:
        if isinstance(ours, list) and isinstance(theirs, list):
            return len(ours) == len(theirs) and all(
                isinstance(a, str) and isinstance(b, str) for a, b in zip(ours, theirs, strict=True)
            )
        if isinstance(ours, dict) or isinstance(theirs, dict):
            return same_but_texts(ours, theirs)  # e.g. the safety net's "today": look inside
        return type(ours) is type(theirs)
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(
            same_but_texts(ours[k], theirs[k], k) for k in ours
        )
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(
            same_but_texts(a, b, key) for a, b in zip(ours, theirs, strict=True)
        )
    return bool(ours == theirs)


def assessment_result(
    registry: Registry,
    stored: Result,
    answers: Mapping[str, Any],
    language: str,
    *,
    released: bool = False,
) -> tuple[Result, str]:
    """An assessment's result (as stored, from ``answers``) in ``language`` when its version
    has an offered translation into it, and the language it is in: (result, tag). The stored
    result itself (English) when not, or when the texts cannot be made again exactly.
    ``released``: a clinician released the programme (the result was worked out again then)."""
    if language == BASE_LANGUAGE:
        return stored, BASE_LANGUAGE
    ref = stored["questionnaire"]
    try:
        q = registry.exact(ref["id"], ref["version"], language)
    except UnknownQuestionnaireError:
        return stored, BASE_LANGUAGE
    if q.language != language:
        return stored, BASE_LANGUAGE
    # A released result with its plan was made with the release in the context; one still
    # waiting for the "before you exercise" answers is the first result, with a release mark.
    context = {RELEASED: True} if released and stored.get("plan") else None
    try:
        result = build_result(evaluate(q, answers, context))
    except AnswerError:
        return stored, BASE_LANGUAGE
    if "release" in stored:
        result["release"] = stored["release"]
    result["questionnaire"] = stored["questionnaire"]
    if not same_but_texts(result, stored):
        # Not expected (the translation changes texts only): the English result, not a guess.
        log.warning(
            "a %s %s result could not be made again in %s: sent in English",
            ref["id"],
            ref["version"],
            language,
        )
        return stored, BASE_LANGUAGE
    return result, language


class _UntranslatableError(Exception):
    """A stored text that is not the definition's: it cannot be put in another language."""


def swap_texts(value: Any, english: Any, theirs: Any, key: str | None = None) -> Any:
    """``value`` (a stored plan, or part of one) with each text that is ``english``'s in the
    same place replaced by ``theirs``' (``english`` and ``theirs``: one result's plan in two
    languages). Raises _UntranslatableError on a text ``english`` does not have there."""
    if key in TEXT_FIELDS:
        if value != english:
            raise _UntranslatableError(key)
        return theirs
    if isinstance(value, dict):
        if not isinstance(english, dict) or not isinstance(theirs, dict):
            raise _UntranslatableError(key)
        return {k: swap_texts(v, english.get(k), theirs.get(k), k) for k, v in value.items()}
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        if not isinstance(english, list) or not isinstance(theirs, list):
            raise _UntranslatableError(key)
        if len(value) != len(english) or len(english) != len(theirs):
            raise _UntranslatableError(key)
        return [swap_texts(*items, key) for items in zip(value, english, theirs, strict=True)]
    return value


def checkin_results(
    session: Session,
    registry: Registry,
    assessment: Assessment,
    wanted: Sequence[Checkin | RecordedCheckin],
    language: str,
) -> list[tuple[CheckinResult, str]]:
    """Each stored check-in's result in ``language``, worked out again as ``record_checkin``
    did (its answers, the check-ins before it, its time), with the plan's texts from the
    assessment's result in that language; and the language each is in. The stored result
    (English) where that cannot be done exactly."""
    if language == BASE_LANGUAGE:
        return [(c.result, BASE_LANGUAGE) for c in wanted]
    every = checkin_history.list_checkins(session, assessment.id)
    made = dict(
        zip(
            (c.id for c in every),
            every_checkin(registry, assessment, every, language),
            strict=True,
        )
    )
    return [made.get(c.id, (c.result, BASE_LANGUAGE)) for c in wanted]


def every_checkin(
    registry: Registry,
    assessment: Assessment,
    every: Sequence[Checkin],
    language: str,
) -> list[tuple[CheckinResult, str]]:
    """The results of ``every`` check-in of ``assessment`` (all of them, oldest first, as
    ``checkin_history.list_checkins`` gives them) in ``language``, each with the language it is
    in: see ``checkin_results``. For callers that already hold the check-ins (the result page)."""
    english = [(c.result, BASE_LANGUAGE) for c in every]
    if language == BASE_LANGUAGE or not every:
        return english
    followed, used = assessment_result(
        registry,
        assessment.result,
        assessment.answers,
        language,
        released=assessment.released_at is not None,
    )
    if used != language:
        return english
    rows = list(every)
    out: list[tuple[CheckinResult, str]] = []
    for i, row in enumerate(rows):
        made = _checkin_in(registry, assessment, rows[:i], row, followed, language)
        out.append((made, language) if made is not None else (row.result, BASE_LANGUAGE))
    return out


def one_checkin(
    registry: Registry,
    assessment: Assessment,
    every: Sequence[Checkin],
    index: int,
    language: str,
) -> tuple[CheckinResult, str]:
    """The result of ``every[index]`` in ``language``, as ``every_checkin`` gives it; in
    English its stored one, the only result read (checkin_history.checkins_shown)."""
    if language == BASE_LANGUAGE:
        return every[index].result, BASE_LANGUAGE
    return every_checkin(registry, assessment, every, language)[index]


def _checkin_in(
    registry: Registry,
    assessment: Assessment,
    earlier: list[Checkin],
    row: Checkin,
    followed: Result,
    language: str,
) -> CheckinResult | None:
    ref = row.result["questionnaire"]
    try:
        q = registry.exact(ref["id"], ref["version"], language)
    except UnknownQuestionnaireError:
        return None
    if q.language != language:
        return None
    english_plan, their_plan = assessment.result.get("plan"), followed.get("plan")

    def plan_texts(plan: Plan) -> Plan:
        if english_plan is None or their_plan is None:
            raise _UntranslatableError("plan")
        return cast(Plan, swap_texts(plan, english_plan, their_plan))

    now = row.created_at
    context = checkins.context_for(registry, assessment, earlier, row.answers, now)
    try:
        evaluation = evaluate(q, row.answers, context)
        result = checkins.checkin_result(
            registry, evaluation, assessment, earlier, now, plan_texts=plan_texts
        )
    except (AnswerError, _UntranslatableError):
        return None
    result["questionnaire"] = row.result["questionnaire"]
    if not same_but_texts(result, row.result):
        log.warning("a check-in result could not be made again in %s: sent in English", language)
        return None
    return result


def checkin_step(
    registry: Registry,
    assessment: Assessment,
    earlier: list[Checkin],
    answers: Mapping[str, Any],
    evaluation: Evaluation,
    now: datetime,
    language: str,
) -> tuple[Evaluation, CheckinResult | None]:
    """A check-in not stored (the API's ``next``): its evaluation (``evaluation``, of the
    English questionnaire, from ``answers`` as sent) in ``language`` and, once finished, its
    result there; the English ones when
    the questionnaire, or the plan's texts, cannot be had in that language. The evaluation's
    ``questionnaire.language`` says which."""
    finished = evaluation.stopped or evaluation.complete
    translated = registry.translation_of(evaluation.questionnaire, language)
    if language != BASE_LANGUAGE and translated is not None:
        followed, used = assessment_result(
            registry,
            assessment.result,
            assessment.answers,
            language,
            released=assessment.released_at is not None,
        )
        english_plan, their_plan = assessment.result.get("plan"), followed.get("plan")
        given = {k: v for k, v in evaluation.context.items() if k in translated.context}
        ours = evaluate(translated, answers, given)
        try:
            current = cast(
                Plan,
                swap_texts(checkins.current_plan(assessment, earlier), english_plan, their_plan),
            )
        except _UntranslatableError:
            current = None
        if used == language and current is not None:
            if not finished or ours.problems:
                return ours, None
            result = checkins.checkin_result(
                registry, ours, assessment, earlier, now, plan_texts=lambda _: current
            )
            return ours, result
    if not finished or evaluation.problems:
        return evaluation, None
    return evaluation, checkins.checkin_result(registry, evaluation, assessment, earlier, now)


def plan_after(
    followed: Result, used: str, results: Sequence[tuple[CheckinResult, str]]
) -> tuple[Plan, str]:
    """The plan as the last check-in that made one left it (``results``: the check-ins' results
    in a language, with the language each is in, as ``every_checkin`` gives them), else the
    assessment's own (``followed``, in ``used``); and the language that plan is in. As
    ``checkins.current_plan`` does with the stored (English) results."""
    for result, language in reversed(results):
        plan = result.get("plan")
        if plan:
            return plan.copy(), language
    plan = followed["plan"]
    assert plan is not None, "a check-in follows a result with a plan"
    return plan.copy(), used
