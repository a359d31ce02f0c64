"""Translations of a definition's person-facing texts: reading and checking a translation file,
and the generated pseudo-locale.

A translation file sits beside the definition it translates (``low-back-audit.pl.yaml`` beside
``low-back-audit.yaml``) and holds, under ``texts``, every text of ``text_catalogue`` by its key.
It is checked completely before it is used, because a red-flag question that lost a text or a
help-line placeholder could hide an emergency: a key the definition does not have, a text left
out, a placeholder (``{emergency_name}``, ``[blocks]``) that differs from the English, another
version than the definition's, or a status that is not ``draft`` or ``reviewed`` (with who and
when) are all problems, each with file and line. Only texts change: the translated definition
is read by the same reader, so its conditions, levels, rules and plan are the English ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from ._errors import DefinitionProblem
from ._texts import english_fingerprint, text_catalogue
from ._yaml import LDict, load_yaml

BASE_LANGUAGE: Final = "en"
# The generated pseudo-locale (accented, longer texts): for tests that look for texts that
# bypass translation and layouts that break with longer words. Never offered in production.
PSEUDO_LANGUAGE: Final = "en-XA"
STATUSES: Final = ("draft", "reviewed")
# A BCP 47 tag as these files use them: a language, then optional region or script subtags.
_TAG: Final = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
# What a text must carry over unchanged: help lines and answer values ({emergency_name},
# {sleep_hours}) and the plan's list of dropped blocks ([blocks]).
_PLACEHOLDER: Final = re.compile(r"\{[^{}]*\}|\[[a-z_]+\]")
_KEYS: Final = (
    "language",
    "name",
    "translates",
    "version",
    "status",
    "reviewed_by",
    "reviewed_on",
    "reviewed_english",
    "texts",
)


@dataclass(frozen=True, slots=True)
class Translation:
    """A checked translation of one definition file's texts."""

    language: str
    name: str  # the language's own name, for a language switcher
    translates: str  # the definition's id (``exercise-blocks`` for an exercise-blocks file)
    version: str
    status: str  # draft | reviewed
    reviewed_by: str | None
    reviewed_on: date | None
    texts: Mapping[str, str]
    path: str

    @property
    def reviewed(self) -> bool:
        return self.status == "reviewed"


def placeholders(text: str) -> frozenset[str]:
    """The placeholders a text carries: what a translation must keep."""
    return frozenset(_PLACEHOLDER.findall(text))


def is_translation(raw: Any) -> bool:
    """Whether a parsed YAML file is a translation (it names what it ``translates``)."""
    return isinstance(raw, dict) and "translates" in raw


def split_name(path: Path) -> tuple[str, str] | None:
    """``low-back-audit.pl.yaml`` -> (``low-back-audit``, ``pl``): the stem of the definition
    it belongs beside and its language; None when the name is not of that form."""
    stem, dot, language = path.stem.rpartition(".")
    if not dot or not stem or not _TAG.fullmatch(language):
        return None
    return stem, language


def definition_id(top: Mapping[str, Any]) -> str:
    """What a translation's ``translates`` names: a questionnaire's id; an exercise-blocks
    file has none, and is named ``exercise-blocks``."""
    return "exercise-blocks" if "blocks" in top and "sections" not in top else str(top.get("id"))


def read_translation(
    path: Path, raw: Any, definition: Mapping[str, Any], definition_path: str
) -> tuple[Translation | None, list[DefinitionProblem], list[DefinitionProblem]]:
    """Check a parsed translation file against the definition it translates (its parsed
    top-level mapping). Returns the translation (None when there are problems), the problems,
    and warnings (texts left the same as the English: allowed, since a name or a number may
    read the same, but worth a look)."""
    file = str(path)
    problems: list[DefinitionProblem] = []
    warnings: list[DefinitionProblem] = []

    def problem(line: int, message: str) -> None:
        problems.append(DefinitionProblem(file, line, message))

    if not isinstance(raw, LDict):
        return None, [DefinitionProblem(file, 1, "a translation must be a mapping")], []
    for key in raw:
        if key not in _KEYS:
            problem(raw.line_of(key), f"unknown key {key!r} (allowed: {', '.join(_KEYS)})")
    for key in ("language", "name", "translates", "version", "status", "texts"):
        if key not in raw or raw[key] in (None, ""):
            problem(raw.line_of(key) if key in raw else 1, f"{key!r} is required")
    named = split_name(path)
    language = str(raw.get("language") or "")
    if language and not _TAG.fullmatch(language):
        problem(raw.line_of("language"), f"'language': {language!r} is not a language tag")
    elif language == BASE_LANGUAGE:
        problem(raw.line_of("language"), "'language': en is the base language, not a translation")
    elif language and (named is None or named[1] != language):
        problem(
            raw.line_of("language"),
            f"'language' is {language!r} but the file name says"
            f" {named[1] if named else 'no language'}: name it <definition>.{language}.yaml",
        )
    wanted_id = definition_id(definition)
    if "translates" in raw and str(raw["translates"]) != wanted_id:
        problem(
            raw.line_of("translates"),
            f"'translates' is {raw['translates']!r} but {definition_path} is {wanted_id!r}",
        )
    wanted_version = str(definition.get("version"))
    if "version" in raw and str(raw["version"]) != wanted_version:
        problem(
            raw.line_of("version"),
            f"'version' is {raw['version']!r} but {definition_path} is version {wanted_version}:"
            " a translation is of one version (translate the new texts and change its version)",
        )
    status = raw.get("status")
    reviewed_by = raw.get("reviewed_by")
    reviewed_on = _day(raw.get("reviewed_on"))
    if "status" in raw and status is not None and status not in STATUSES:
        problem(raw.line_of("status"), f"'status' must be draft or reviewed (got {status!r})")
    if status == "reviewed":
        if not isinstance(reviewed_by, str) or not reviewed_by.strip():
            problem(
                raw.line_of("reviewed_by") if "reviewed_by" in raw else raw.line_of("status"),
                "a reviewed translation names its reviewer: 'reviewed_by' (name and role)",
            )
        if reviewed_on is None:
            problem(
                raw.line_of("reviewed_on") if "reviewed_on" in raw else raw.line_of("status"),
                "a reviewed translation says when: 'reviewed_on' (a day like 2027-01-31)",
            )
        # Reviewed against this English, word for word: a text changed since is unreviewed.
        now = english_fingerprint(definition)
        against = raw.get("reviewed_english")
        if against is None:
            problem(
                raw.line_of("status"),
                "a reviewed translation records the English it was reviewed against:"
                f" 'reviewed_english: {now}' (the English texts' fingerprint today)",
            )
        elif str(against) != now:
            problem(
                raw.line_of("reviewed_english"),
                f"the English texts of {definition_path} have changed since this translation was"
                f" reviewed (fingerprint {against}, now {now}): translate the changed texts and"
                " have them reviewed (then record the new fingerprint), or mark it draft",
            )
    elif "reviewed_on" in raw and raw["reviewed_on"] is not None and reviewed_on is None:
        problem(raw.line_of("reviewed_on"), "'reviewed_on' must be a day like 2027-01-31")
    texts = _texts(raw, text_catalogue(definition), definition_path, problem, warnings, file)
    if problems:
        return None, problems, warnings
    return (
        Translation(
            language=language,
            name=str(raw["name"]),
            translates=wanted_id,
            version=wanted_version,
            status=str(status),
            reviewed_by=reviewed_by if isinstance(reviewed_by, str) else None,
            reviewed_on=reviewed_on,
            texts=texts,
            path=file,
        ),
        [],
        warnings,
    )


def _texts(
    raw: LDict,
    english: Mapping[str, str],
    definition_path: str,
    problem: Any,
    warnings: list[DefinitionProblem],
    file: str,
) -> dict[str, str]:
    texts = raw.get("texts")
    if "texts" in raw and not isinstance(texts, LDict):
        problem(raw.line_of("texts"), "'texts' must map each text's key to its translation")
        return {}
    if texts is None:
        return {}
    out: dict[str, str] = {}
    for key, value in texts.items():
        line = texts.line_of(key)
        if key not in english:
            problem(line, f"unknown text {key!r}: {definition_path} has no text by that key")
            continue
        if not isinstance(value, str) or not value.strip():
            problem(line, f"{key}: the translation must be text, not empty")
            continue
        value = value.strip()
        ours, theirs = placeholders(english[key]), placeholders(value)
        if ours != theirs:
            problem(
                line,
                f"{key}: placeholders differ from the English: it has"
                f" {', '.join(sorted(ours)) or 'none'}, this has {', '.join(sorted(theirs)) or 'none'}",
            )
            continue
        if value == english[key].strip():
            warnings.append(DefinitionProblem(file, line, f"{key}: the same as the English text"))
        out[key] = value
    for key in english:
        if key not in texts:
            problem(raw.line_of("texts"), f"missing text {key!r} (English: {english[key]!r})")
    return out


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_translation(path: Path) -> tuple[Any, list[DefinitionProblem]]:
    """A translation file's YAML, with lines (problems if it cannot be read or parsed)."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        return None, [DefinitionProblem(str(path), 1, f"cannot read the file: {exc.strerror}")]


# Letters the pseudo-locale swaps for accented ones: still readable, clearly not English.
_ACCENTED: Final = str.maketrans(
    "abcdeghiklnoprstuwyzABCDEGHIKLNOPRSTUWYZ",
    "àƀçđéĝĥîķĺñöþŕšţûŵýžÀƁÇĐÉĜĤÎĶĹÑÖÞŔŠŢÛŴÝŽ",
)
_FILLER: Final = " ẋẋẋẋ"


def pseudo_text(text: str) -> str:
    """A text in the pseudo-locale: accented letters, about 40% longer, and every placeholder
    exactly as it was (``{emergency_name}``, ``[blocks]``)."""
    out: list[str] = []
    end = 0
    for match in _PLACEHOLDER.finditer(text):
        out.append(text[end : match.start()].translate(_ACCENTED))
        out.append(match.group())
        end = match.end()
    out.append(text[end:].translate(_ACCENTED))
    # At least 40% more, in short words (a text may wrap as a translation's would).
    extra = max(2, -(-len(text) * 2 // 5))
    padding = (_FILLER * extra)[: extra + 1]
    if padding.endswith(" "):
        padding = padding[:-1] + "ẋ"
    return f"{''.join(out)}{padding}"


def pseudo_translation(definition: Mapping[str, Any], definition_path: str) -> Translation:
    """The pseudo-locale's translation of a definition, generated from its English texts."""
    return Translation(
        language=PSEUDO_LANGUAGE,
        name="Pseudo-English (en-XA)",
        translates=definition_id(definition),
        version=str(definition.get("version")),
        status="draft",
        reviewed_by=None,
        reviewed_on=None,
        texts={key: pseudo_text(text) for key, text in text_catalogue(definition).items()},
        path=f"{definition_path} ({PSEUDO_LANGUAGE}, generated)",
    )


@dataclass(frozen=True, slots=True)
class Pairing:
    """A questionnaire's translation into one language, with the translation of the
    exercise-blocks file it names (None when it names none)."""

    definition: Path
    translation: Translation
    blocks: Translation | None


def check_translations(
    found: list[tuple[Path, Any]],
    definitions: Mapping[Path, Any],
    *,
    pseudo: Iterable[Path] = (),
) -> tuple[list[Pairing], list[DefinitionProblem], list[DefinitionProblem]]:
    """Check every translation file ``found`` (path, parsed YAML) against its definition
    (``definitions``: path -> parsed top-level mapping; read from beside the file when not
    there), and pair each questionnaire's translation with its exercise blocks' one in the same
    language, which it needs: a plan half in one language would not do. ``pseudo`` adds the
    pseudo-locale of every questionnaire. Returns the pairs, the problems and the warnings."""
    problems: list[DefinitionProblem] = []
    warnings: list[DefinitionProblem] = []
    checked: dict[tuple[Path, str], Translation] = {}
    tops = dict(definitions)
    for path, raw in found:
        named = split_name(path)
        if named is None:
            problems.append(
                DefinitionProblem(
                    str(path), 1, "a translation is named <definition>.<language>.yaml"
                )
            )
            continue
        candidates = [path.with_name(f"{named[0]}{ext}") for ext in (".yaml", ".yml")]
        definition_path = next(
            (c for c in candidates if c in tops),
            next((c for c in candidates if c.exists()), candidates[0]),
        )
        top = tops.get(definition_path)
        if top is None:
            top, syntax = parse_translation(definition_path)
            if syntax or not isinstance(top, dict):
                problems.append(
                    DefinitionProblem(
                        str(path), 1, f"no definition {named[0]}.yaml beside it to translate"
                    )
                )
                continue
            tops[definition_path] = top
        translation, its_problems, its_warnings = read_translation(
            path, raw, top, definition_path.name
        )
        problems.extend(its_problems)
        warnings.extend(its_warnings)
        if translation is not None:
            checked[(definition_path, translation.language)] = translation
    for definition_path in pseudo:
        if definition_path not in tops:  # a blocks file beside the one file checked
            top, syntax = parse_translation(definition_path)
            if syntax or not isinstance(top, dict):
                continue  # reported with its questionnaire
            tops[definition_path] = top
        checked[(definition_path, PSEUDO_LANGUAGE)] = pseudo_translation(
            tops[definition_path], definition_path.name
        )
    pairs: list[Pairing] = []
    for (definition_path, language), translation in checked.items():
        top = tops[definition_path]
        if "sections" not in top:
            continue  # an exercise-blocks file's: paired with its questionnaire's below
        blocks = None
        if "exercise_blocks" in top:
            blocks_path = definition_path.parent / str(top["exercise_blocks"])
            blocks = checked.get((blocks_path, language))
            if blocks is None:
                named = split_name(Path(translation.path))
                problems.append(
                    DefinitionProblem(
                        translation.path,
                        1,
                        f"the exercise blocks this questionnaire names ({blocks_path.name}) have"
                        f" no {language} translation: add"
                        f" {blocks_path.stem}.{named[1] if named else language}.yaml",
                    )
                )
                continue
        pairs.append(Pairing(definition_path, translation, blocks))
    return pairs, problems, warnings
