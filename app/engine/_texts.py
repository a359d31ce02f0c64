"""The texts a person reads in a definition, each under a stable key, for translations.

A translation is a file of texts keyed by the definition's stable ids (question, page, section,
option, level, rule, contributor, block and step codes), never by position in the file where an
id exists, so that the clinical definition stays one file and a translation cannot silently
attach a text to another question. The keys:

- an item with an ``id`` starts its key afresh: ``questions.saddle_numbness.text``,
  ``pages.about_you.title``, ``sections.safety.title`` (ids are unique in their kind, so moving a
  question to another page keeps its key);
- an item with a ``code`` is named by it under its parent: ``levels.emergency.advice``,
  ``questions.serious_accident.options.last_6_weeks.label``, ``triage.cauda_equina_bowel.message``,
  ``blocks.hip_bridge.steps.two_leg.how``;
- anything else by its position: ``safety_net.signs.0``, ``levels.self_care.advice_more.2.text``.

Only what the person reads is a text here. Staff-only texts (a level's ``label``, ``clinician``
and ``action``, a derived value's or context item's label) stay in English, as staff pages do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any, Final

from ._yaml import LDict, LList

# Fields whose text the person reads (a string, or a list of strings).
_PERSON_TEXT: Final = frozenset(
    {
        # questionnaire, sections, pages, questions, options
        "title",
        "description",
        "intro",
        "text",
        "hint",
        "label",
        "image_alt",
        # levels, safety net, triage rules, contributors, plan
        "advice",
        "badge",
        "message",
        "why",
        "discuss",
        "signs",
        "today_title",
        "today_signs",
        "self_care",
        # check-in progression
        "why_at_end",
        "why_too_few_days",
        "why_too_soon",
        "why_held",
        "why_paused_all",
        # exercise blocks
        "summary",
        "dose",
        "how",
        "cues",
        "mistakes",
        "progress_when",
    }
)
# Parts whose texts only staff read, or that are not texts for reading at all.
_STAFF_ONLY: Final = frozenset({"clinician", "action", "removed", "derived", "context"})
# A level's label is the short name staff see; its badge and title are the person's.
_STAFF_FIELDS_OF: Final = {"levels": frozenset({"label"})}
# The safety net's "action" is the person's: what to do about the signs.
_PERSON_FIELDS_OF: Final = {"safety_net": frozenset({"action"})}


def text_catalogue(top: Mapping[str, Any]) -> dict[str, str]:
    """Every text the person reads in a definition (a questionnaire's or an exercise-blocks
    file's top-level mapping), by key, in file order."""
    return {key: text for key, _, _, text in _texts(top)}


def english_fingerprint(top: Mapping[str, Any]) -> str:
    """A short fingerprint of every text the person reads (keys and English words): a reviewed
    translation records the one it was reviewed against, so that a changed English text cannot
    leave a translation marked reviewed that no one has read against it."""
    digest = hashlib.sha256()
    for key, text in text_catalogue(top).items():
        digest.update(f"{key}\0{' '.join(text.split())}\0".encode())
    return digest.hexdigest()[:16]


def put_texts(top: LDict, texts: Mapping[str, str]) -> None:
    """Replace, in place, each text whose key ``texts`` names (the others stay as they are)."""
    for key, parent, slot, _ in list(_texts(top)):
        if key in texts:
            parent[slot] = texts[key]


def _texts(top: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any, str]]:
    """(key, container, slot in it, text) for every person-facing text."""
    for field, value in top.items():
        yield from _field(top, field, value, field, kind="")


def _field(parent: Any, field: str, value: Any, key: str, kind: str) -> Iterator[Any]:
    if field in _STAFF_ONLY and field not in _PERSON_FIELDS_OF.get(kind, ()):
        return
    if field in _STAFF_FIELDS_OF.get(kind, ()):
        return
    person = field in _PERSON_TEXT or field in _PERSON_FIELDS_OF.get(kind, ())
    if isinstance(value, str):
        if person:
            yield key, parent, field, value
    elif isinstance(value, list):
        yield from _items(value, field, key, person)
    elif isinstance(value, dict):
        yield from _mapping(value, key, kind=field)


def _items(items: list[Any], field: str, key: str, person: bool) -> Iterator[Any]:
    for index, item in enumerate(items):
        if isinstance(item, str):
            if person:
                yield f"{key}.{index}", items, index, item
        elif isinstance(item, dict):
            if "id" in item:
                item_key = f"{field}.{item['id']}"
            elif "code" in item:
                item_key = f"{key}.{item['code']}"
            else:
                item_key = f"{key}.{index}"
            yield from _mapping(item, item_key, kind=field)


def _mapping(data: Mapping[str, Any], key: str, kind: str) -> Iterator[Any]:
    for field, value in data.items():
        yield from _field(data, field, value, f"{key}.{field}", kind)


__all__ = ["LDict", "LList", "english_fingerprint", "put_texts", "text_catalogue"]
