"""Engine objects and stored records as the plain JSON the API sends."""

from __future__ import annotations

from typing import Any, TypeVar

from app.engine import (
    BASE_LANGUAGE,
    CheckinResult,
    Evaluation,
    Page,
    Question,
    Questionnaire,
    QuestionnaireRef,
    Result,
    build_result,
)
from app.models import Assessment, Checkin
from app.services.assessments import Recorded
from app.services.checkins import RecordedCheckin
from app.services.interview import Standing
from app.services.questionnaires import Registry

from .errors import problem_dicts


def summary(q: Questionnaire) -> dict[str, Any]:
    return {
        "id": q.id,
        "version": q.version,
        "title": q.title,
        "description": q.description,
        "follows": q.follows,
        "language": q.language,
    }


def question(question: Question) -> dict[str, Any]:
    return {
        "id": question.id,
        "type": question.type,
        "text": question.text,
        "hint": question.hint,
        "options": [
            {"code": o.code, "label": o.label, "hint": o.hint, "exclusive": o.exclusive}
            for o in question.options
        ],
        "min": question.minimum,
        "max": question.maximum,
        "unit": question.unit,
        "widget": question.widget,
        "image": question.image,
        "image_alt": question.image_alt,
        "required": question.required,
    }


def _source(expr: Any) -> str | None:
    return None if expr is None else str(expr.source)


def definition(q: Questionnaire) -> dict[str, Any]:
    return {
        **summary(q),
        "stop_when": _source(q.stop_when),
        "sections": [
            {
                "id": section.id,
                "title": section.title,
                "when": _source(section.when),
                "pages": [
                    {
                        "id": page.id,
                        "title": page.title,
                        "intro": page.intro,
                        "when": _source(page.when),
                        "questions": [
                            {**question(qq), "when": _source(qq.when)} for qq in page.questions
                        ],
                    }
                    for page in section.pages
                ],
            }
            for section in q.sections
        ],
        "derived": [{"id": d.id, "label": d.label, "value": d.expr.source} for d in q.derived],
        "levels": [
            {
                "code": lv.code,
                "title": lv.title,
                "advice": lv.advice,
                "clinician": lv.clinician or None,
                "action": lv.action or None,
            }
            for lv in q.levels
        ],
        "rules": [
            {
                "code": r.code,
                "level": r.level,
                "when": r.when.source,
                "message": r.message,
                "clinician": r.clinician or None,
                "action": r.action or None,
            }
            for r in q.rules
        ],
        "contributors": [{"code": c.code, "label": c.label} for c in q.contributors],
    }


def _page(q: Questionnaire, evaluation: Evaluation, page: Page) -> dict[str, Any]:
    section = next(s for s in q.sections if s.id == page.section_id)
    return {
        "id": page.id,
        "title": page.title,
        "intro": page.intro,
        "section": {"id": section.id, "title": section.title},
        "questions": [question(qq) for qq in evaluation.visible_on(page)],
    }


AnyResult = TypeVar("AnyResult", bound=Result)  # an assessment's, or a check-in's


def version_news(result: AnyResult, registry: Registry) -> AnyResult:
    """A result whose ``questionnaire`` names ``newer_version`` when a newer version exists
    (an API client that pinned an older one, or a stored record; a copy, never the stored
    dict)."""
    ref = result["questionnaire"]
    newer = registry.newer_version(ref["id"], ref["version"])
    if newer is None:
        return result
    news = result.copy()
    news["questionnaire"] = {**ref, "newer_version": newer}
    return news


def next_step(standing: Standing, registry: Registry) -> dict[str, Any]:
    """Where the interview stands (see the ``next`` route's description)."""
    evaluation = standing.evaluation
    q = evaluation.questionnaire
    next_page = standing.next_page
    ref: QuestionnaireRef = {"id": q.id, "version": q.version}
    newer = registry.newer_version(q.id, q.version)
    if newer is not None:
        ref["newer_version"] = newer
    result = None if standing.finished is None else build_result(standing.finished)
    return {
        "questionnaire": ref,
        "complete": standing.finished is not None,
        "stopped": evaluation.stopped,
        "page": None if next_page is None else _page(q, evaluation, next_page),
        "progress": evaluation.progress(),
        "problems": problem_dicts(evaluation.problems),
        "ignored_answers": list(evaluation.ignored),
        "result": None if result is None else version_news(result, registry),
        "language": q.language,
    }


def record(
    assessment: Assessment | Recorded,
    registry: Registry,
    result: Result | None = None,
    language: str = BASE_LANGUAGE,
) -> dict[str, Any]:
    """An assessment as the API shows it: just stored, or loaded; ``result`` its result in
    ``language`` (app/services/result_language.py), else the stored one."""
    return {
        "id": str(assessment.id),
        "created_at": assessment.created_at.isoformat().replace("+00:00", "Z"),
        "channel": assessment.channel,
        "result": version_news(result or assessment.result, registry),
        "language": language,
    }


def checkin_record(
    checkin: Checkin | RecordedCheckin,
    registry: Registry,
    in_language: tuple[CheckinResult, str] | None = None,
) -> dict[str, Any]:
    """A check-in as the API shows it. ``in_language``: its result in another language, and that language
    (app/services/result_language.py); else the stored one, in English."""
    result, language = in_language or (checkin.result, BASE_LANGUAGE)
    return {
        "id": str(checkin.id),
        "assessment_id": str(checkin.assessment_id),
        "created_at": checkin.created_at.isoformat().replace("+00:00", "Z"),
        # A check-in stored by an older version says which version is newer, as a record does.
        "result": version_news(result, registry),
        "language": language,
    }
