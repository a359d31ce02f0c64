"""FHIR in: a QuestionnaireResponse to one of our Questionnaires, read back into answers.

The response is checked against the FHIR Questionnaire this deployment exports for it (the
same resource ``GET /questionnaires/{id}/fhir`` gives), not against the engine's model: an app
that rendered that resource filled in exactly its items. What is checked here is what the
Questionnaire says without running anything: every item's linkId exists and sits in its own
group, a non-repeating item has one answer, each answer has the item's type (``valueBoolean``
for a boolean item, ...), and a coded answer is one of the item's options. Which items had to
be answered, and ranges, are the engine's to say, over the answers read here (its problems
name the question id, which is the item's linkId).

Answers to items that are no question of the engine (values the Questionnaire calculates for a
renderer, if any) are not read: the app works those out itself. Display items carry no answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from app.engine import Questionnaire

from .coding import questionnaire_url

# R4's QuestionnaireResponse.status codes; a response entered in error is not one to assess.
_STATUSES: Final = frozenset({"in-progress", "completed", "amended", "stopped"})
# The item type's answer key, and the JSON types its value may have (bool is not a number).
_VALUE_KEY: Final = {
    "boolean": ("valueBoolean", (bool,)),
    "integer": ("valueInteger", (int,)),
    "decimal": ("valueDecimal", (int, float)),
    "choice": ("valueCoding", (dict,)),
}


class ResponseNotReadableError(Exception):
    """The resource is not a QuestionnaireResponse to this Questionnaire that can be read as
    answers. ``problems`` are the API's problem dicts: ``question`` is the item's linkId
    (a question id), ``field`` a part of the resource (``resourceType``, ``questionnaire``,
    ``status``, ``item``). linkIds that are no item of the Questionnaire are counted, never
    repeated: nothing a client made up is echoed back."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(p["message"] for p in problems))


def _field(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def _item(link_id: str, code: str, message: str) -> dict[str, str]:
    return {"question": link_id, "code": code, "message": f"item {link_id!r}: {message}"}


def named_questionnaire(resource: Any, *, base_url: str) -> tuple[str, str | None]:
    """The questionnaire id and version (None when not given) a QuestionnaireResponse names by
    its canonical ``questionnaire`` (``{url}|{version}``, the url this deployment's
    Questionnaire has); ResponseNotReadableError when it is no response or names no
    questionnaire of ours."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "QuestionnaireResponse":
        raise ResponseNotReadableError(
            [_field("resourceType", "wrong_resource", "must be QuestionnaireResponse")]
        )
    canonical = resource.get("questionnaire")
    if not isinstance(canonical, str):
        raise ResponseNotReadableError(
            [_field("questionnaire", "required", "must name the Questionnaire (its url|version)")]
        )
    url, _, version = canonical.partition("|")
    prefix = questionnaire_url(base_url, "")
    questionnaire_id = url.removeprefix(prefix)
    if not url.startswith(prefix) or not questionnaire_id or "/" in questionnaire_id:
        raise ResponseNotReadableError(
            [
                _field(
                    "questionnaire",
                    "unknown_questionnaire",
                    f"must be the url of one of this server's Questionnaires ({prefix}{{id}})",
                )
            ]
        )
    return questionnaire_id, version or None


def read_answers(
    resource: dict[str, Any], questionnaire: dict[str, Any], q: Questionnaire
) -> dict[str, Any]:
    """The answers of ``resource`` (named by ``named_questionnaire``) to ``questionnaire``, the
    FHIR resource of ``q``, keyed by question id as the JSON API takes them. Every problem
    found is listed in one ResponseNotReadableError."""
    problems: list[dict[str, str]] = []
    status = resource.get("status")
    if status not in _STATUSES:
        problems.append(
            _field("status", "invalid", f"must be one of {', '.join(sorted(_STATUSES))}")
        )
    items = resource.get("item", [])
    if not isinstance(items, list):
        raise ResponseNotReadableError([*problems, _field("item", "wrong_type", "must be a list")])
    defined = dict(_defined_items(questionnaire.get("item", []), None))
    questions = {question.id: question for question in q.questions}
    answers: dict[str, Any] = {}
    seen: set[str] = set()
    unknown = 0
    for item, parent in _response_items(items, None):
        link_id = item.get("linkId") if isinstance(item, dict) else None
        if not isinstance(link_id, str) or link_id not in defined:
            unknown += 1
            continue
        definition, expected_parent = defined[link_id]
        if link_id in seen:
            problems.append(_item(link_id, "repeated", "is given more than once"))
            continue
        seen.add(link_id)
        if parent != expected_parent:
            where = "at the top level" if expected_parent is None else f"in {expected_parent!r}"
            problems.append(_item(link_id, "wrong_place", f"belongs {where}"))
            continue
        given = item.get("answer", [])
        if definition["type"] in ("group", "display") or not given:
            if given:
                problems.append(_item(link_id, "not_a_question", "takes no answer"))
            continue
        if link_id not in questions:
            continue  # a value the Questionnaire calculates: the app works it out itself
        value = _answer(definition, given, problems)
        if value is not None:
            answers[link_id] = value
    if unknown:
        what = "item that is not" if unknown == 1 else "items that are not"
        problems.append(
            _field("item", "unknown_item", f"has {unknown} {what} in the Questionnaire (by linkId)")
        )
    if problems:
        raise ResponseNotReadableError(problems)
    # In the questionnaire's order, as the JSON API's answers are stored.
    return {
        question_id: answers[question_id] for question_id in questions if question_id in answers
    }


def _defined_items(
    items: Iterable[dict[str, Any]], parent: str | None
) -> Iterator[tuple[str, tuple[dict[str, Any], str | None]]]:
    for item in items:
        yield item["linkId"], (item, parent)
        yield from _defined_items(item.get("item", []), item["linkId"])


def _response_items(items: list[Any], parent: str | None) -> Iterator[tuple[Any, str | None]]:
    for item in items:
        yield item, parent
        if isinstance(item, dict) and isinstance(item.get("item"), list):
            link_id = item.get("linkId")
            yield from _response_items(item["item"], link_id if isinstance(link_id, str) else "")


def _answer(definition: dict[str, Any], given: Any, problems: list[dict[str, str]]) -> Any:
    """The item's answer as the JSON API takes it (a list of codes for a repeating choice);
    None after adding a problem."""
    link_id = definition["linkId"]
    if not isinstance(given, list):
        problems.append(_item(link_id, "wrong_type", "answer must be a list"))
        return None
    repeats = bool(definition.get("repeats"))
    if len(given) > 1 and not repeats:
        problems.append(_item(link_id, "too_many_answers", "takes one answer"))
        return None
    key, types = _VALUE_KEY[definition["type"]]
    values = []
    for answer in given:
        value = answer.get(key) if isinstance(answer, dict) else None
        # bool is an int in Python; a boolean is no number here.
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            problems.append(_item(link_id, "wrong_type", f"each answer must be a {key}"))
            return None
        if isinstance(value, dict):
            value = _option_code(definition, value)
            if value is None:
                problems.append(
                    _item(link_id, "not_an_option", "answer is not one of the item's options")
                )
                return None
        values.append(value)
    return values if repeats else values[0]


def _option_code(definition: dict[str, Any], coding: dict[str, Any]) -> str | None:
    """The code of the option this coding is (its system, when given, must be the option's)."""
    for option in definition.get("answerOption", []):
        known = option.get("valueCoding", {})
        if coding.get("code") == known.get("code") and coding.get("system") in (
            None,
            known.get("system"),
        ):
            code: str = known["code"]
            return code
    return None
