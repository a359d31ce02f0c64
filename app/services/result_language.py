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
from collections.abc import Mapping
from typing import Any, Final

from app.engine import (
    BASE_LANGUAGE,
    RELEASED,
    AnswerError,
    Result,
    build_result,
    evaluate,
)
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
