"""Translations of the definitions (app/engine/_translations.py): checked completely before use,
and only texts change, so every language gives the same levels, reasons and plan."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from app.engine import (
    PSEUDO_LANGUAGE,
    Pairing,
    Questionnaire,
    assess,
    load_questionnaire,
    load_translated,
    placeholders,
    pseudo_text,
    validate_path,
)
from tests.support.translations import (
    AUDIT,
    BLOCKS,
    catalogue,
    line_with,
    stand_in,
    write_translation,
)

from .support import QUESTIONNAIRES, answers


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The newest audit and its exercise blocks, with a complete "xx" translation of both."""
    for stem in (AUDIT, BLOCKS):
        shutil.copy(QUESTIONNAIRES / f"{stem}.yaml", tmp_path)
        write_translation(tmp_path, stem)
    return tmp_path


def checked(folder: Path, pseudo: bool = False) -> tuple[list[Any], list[Pairing], list[Any]]:
    pairs: list[Pairing] = []
    warnings: list[Any] = []
    problems = validate_path(folder, translations=pairs, warnings=warnings, pseudo=pseudo)
    return problems, pairs, warnings


def only_problem(folder: Path) -> str:
    problems, _, _ = checked(folder)
    assert len(problems) == 1, problems
    return str(problems[0])


def test_a_complete_translation_loads_and_only_its_texts_change(folder: Path) -> None:
    problems, pairs, warnings = checked(folder)
    assert problems == []
    assert warnings == []
    (pair,) = pairs
    assert (pair.translation.language, pair.translation.status) == ("xx", "draft")
    assert pair.blocks is not None
    assert pair.blocks.translates == BLOCKS
    translated = load_translated(pair, help_lines={"emergency_name": "999"} | HELP)
    assert translated.language == "xx"
    english = load_questionnaire(folder / f"{AUDIT}.yaml", help_lines=HELP)
    assert english.language == "en"
    assert translated.title == f"XX {english.title} XX"
    saddle = translated.question_by_id["saddle_numbness"]
    assert saddle.text == f"XX {english.question_by_id['saddle_numbness'].text} XX"
    assert translated.exercise_blocks["hip_bridge"].title.startswith("XX ")
    # Help lines are put in after the texts: the translated safety net calls the same number.
    assert translated.safety_net is not None
    assert "999" in translated.safety_net.title


HELP = {
    "emergency_number": "999",
    "emergency_name": "999",
    "urgent_number": "111",
    "urgent_name": "NHS 111",
    "urgent_online_name": "NHS 111 online",
}

# Answer sets reaching every level, with reasons, contributors and a plan.
CASES: list[dict[str, Any]] = [
    {},
    {
        "pain_duration": "over_12_weeks",
        "sitting_hours": 11,
        "sitting_breaks": "rarely",
        "sleep_hours": 5,
    },
    {"pregnant": True},
    {"fever": True},
    {"saddle_numbness": True},
    {"leg_pain": "below_knee", "leg_pain_worse_than_back": False},
]


def codes(result: Any) -> Any:
    """A result with its texts left out: what triage and the plan decided."""
    plan = result["plan"]
    return {
        "level": result["triage"]["level"],
        "reasons": [(r["code"], r["level"]) for r in result["triage"]["reasons"]],
        "contributors": [(c["code"], c["score"]) for c in result["contributors"]],
        "plan": None
        if plan is None
        else [
            (
                b["code"],
                b["focus"],
                b["relevance"],
                b["start_step"],
                [(s["code"], s.get("allowed", True)) for s in b["steps"]],
            )
            for b in plan["blocks"]
        ],
        "dropped": None if plan is None else plan.get("dropped"),
        "ignored": result["ignored_answers"],
    }


def texts(result: Any) -> list[str]:
    out = [result["triage"]["title"], result["triage"]["advice"]]
    out += [r["message"] for r in result["triage"]["reasons"]]
    out += [c["why"] for c in result["contributors"]]
    out += [result["safety_net"]["title"], *result["safety_net"]["signs"]]
    if result["plan"] is not None:
        out += [b["title"] for b in result["plan"]["blocks"]] + result["plan"]["advice"]
    return out


@pytest.mark.parametrize("changes", CASES)
def test_the_same_answers_give_the_same_result_in_every_language(
    folder: Path, changes: dict[str, Any]
) -> None:
    problems, pairs, _ = checked(folder, pseudo=True)
    assert problems == []
    languages: dict[str, Questionnaire] = {"en": load_questionnaire(folder / f"{AUDIT}.yaml")}
    for pair in pairs:
        languages[pair.translation.language] = load_translated(pair)
    assert set(languages) == {"en", "xx", PSEUDO_LANGUAGE}
    results = {lang: assess(q, answers(**changes)) for lang, q in languages.items()}
    english = results.pop("en")
    for language, result in results.items():
        assert codes(result) == codes(english), language
        for ours, theirs in zip(texts(result), texts(english), strict=True):
            assert ours != theirs, (language, theirs)


def test_the_pseudo_locale_is_longer_accented_and_keeps_placeholders() -> None:
    for stem in (AUDIT, BLOCKS, "low-back-checkin"):
        for key, text in catalogue(stem).items():
            pseudo = pseudo_text(text)
            assert pseudo != text, key
            assert placeholders(pseudo) == placeholders(text), key
            assert len(pseudo) >= 1.3 * len(text), key
            outside = pseudo
            for placeholder in placeholders(text):
                outside = outside.replace(placeholder, "")
            assert not set("aeiouAEIOU") & set(outside), key


# -- what makes a translation fail, each with its file and line ------------------------------


def test_an_unknown_key_fails(folder: Path) -> None:
    texts = {key: stand_in(t) for key, t in catalogue(AUDIT).items()}
    texts["questions.no_such_question.text"] = "?"
    path = write_translation(folder, AUDIT, texts=texts)
    said = only_problem(folder)
    line = line_with(path, "questions.no_such_question.text")
    assert said.startswith(f"{path}:{line}: ")
    assert "unknown text 'questions.no_such_question.text'" in said


def test_a_missing_text_fails(folder: Path) -> None:
    texts = {key: stand_in(t) for key, t in catalogue(AUDIT).items()}
    del texts["questions.saddle_numbness.text"]
    path = write_translation(folder, AUDIT, texts=texts)
    said = only_problem(folder)
    assert said.startswith(f"{path}:{line_with(path, 'texts:')}: ")
    assert "missing text 'questions.saddle_numbness.text'" in said


@pytest.mark.parametrize(
    ("stem", "key", "broken", "named"),
    [
        # a help line dropped: the person would not be told whom to call
        (AUDIT, "safety_net.title", "XX call someone XX", "{emergency_name}"),
        # a help line renamed
        (AUDIT, "safety_net.title", "XX call {emergency_number} XX", "{emergency_number}"),
        # the plan's list of dropped blocks
        (AUDIT, "plan.dropped_advice.0.text", "XX we left some out XX", "[blocks]"),
    ],
)
def test_a_broken_placeholder_fails(
    folder: Path, stem: str, key: str, broken: str, named: str
) -> None:
    texts = {k: stand_in(t) for k, t in catalogue(stem).items()}
    assert key in texts
    texts[key] = broken
    path = write_translation(folder, stem, texts=texts)
    said = only_problem(folder)
    assert said.startswith(f"{path}:{line_with(path, key + ':')}: ")
    assert "placeholders differ from the English" in said
    assert named in said


def test_another_version_fails(folder: Path) -> None:
    path = write_translation(folder, AUDIT, version="2.0.0")
    said = only_problem(folder)
    assert said.startswith(f"{path}:{line_with(path, 'version:')}: ")
    assert "'version' is '2.0.0'" in said
    assert "2.1.0" in said


def test_another_definition_fails(folder: Path) -> None:
    path = write_translation(folder, AUDIT, translates="low-back-checkin")
    said = only_problem(folder)
    assert said.startswith(f"{path}:{line_with(path, 'translates:')}: ")


@pytest.mark.parametrize("status", ["final", None, "Reviewed"])
def test_a_bad_status_fails(folder: Path, status: str | None) -> None:
    path = write_translation(folder, AUDIT, status=status)
    said = only_problem(folder)
    assert said.startswith(f"{path}:{line_with(path, 'status:')}: ")


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ({"reviewed_on": "2026-11-30"}, "reviewed_by"),
        ({"reviewed_by": "A. Nowak, physiotherapist"}, "reviewed_on"),
        ({"reviewed_by": "A. Nowak, physiotherapist", "reviewed_on": "last week"}, "reviewed_on"),
    ],
)
def test_a_reviewed_status_needs_who_and_when(
    folder: Path, header: dict[str, Any], missing: str
) -> None:
    path = write_translation(folder, AUDIT, status="reviewed", **header)
    said = only_problem(folder)
    assert said.startswith(f"{path}:{line_with(path, missing + ':')}: ")
    assert f"'{missing}'" in said


def test_a_reviewed_translation_names_who_and_when(folder: Path) -> None:
    for stem in (AUDIT, BLOCKS):
        write_translation(
            folder,
            stem,
            status="reviewed",
            reviewed_by="A. Nowak, physiotherapist",
            reviewed_on="2026-11-30",
        )
    problems, (pair,), _ = checked(folder)
    assert problems == []
    assert pair.translation.reviewed
    assert pair.translation.reviewed_by == "A. Nowak, physiotherapist"
    assert str(pair.translation.reviewed_on) == "2026-11-30"


def test_a_translation_that_forgot_what_it_translates_is_told_so(folder: Path) -> None:
    path = write_translation(folder, AUDIT)
    path.write_text(
        path.read_text(encoding="utf-8").replace("translates: low-back-audit\n", ""),
        encoding="utf-8",
    )
    said = only_problem(folder)
    assert said == f"{path}:1: 'translates' is required"


def test_a_language_other_than_the_file_names_fails(folder: Path) -> None:
    path = write_translation(folder, AUDIT)
    path.write_text(path.read_text(encoding="utf-8").replace("language: xx", "language: pl"))
    said = only_problem(folder)
    assert said.startswith(f"{path}:{line_with(path, 'language:')}: ")


def test_a_questionnaire_translation_needs_its_exercise_blocks_translated(folder: Path) -> None:
    (folder / f"{BLOCKS}.xx.yaml").unlink()
    said = only_problem(folder)
    assert said.startswith(f"{folder / f'{AUDIT}.xx.yaml'}:1: ")
    assert "exercise-blocks.xx.yaml" in said


def test_a_partial_translation_lists_every_missing_text(tmp_path: Path) -> None:
    """The file in tests/data, beside the audit: a translator's first few texts, with file and
    line for each problem."""
    data = Path(__file__).resolve().parents[1] / "data" / "translations"
    shutil.copy(QUESTIONNAIRES / f"{AUDIT}.yaml", tmp_path)
    path = Path(shutil.copy(data / f"{AUDIT}.xx.yaml", tmp_path))
    problems = validate_path(path)
    missing = [p for p in problems if "missing text" in p.message]
    assert len(missing) == len(catalogue(AUDIT)) - 3
    assert all(p.file == str(path) and p.line == line_with(path, "texts:") for p in missing)
    (placeholder,) = [p for p in problems if "placeholders" in p.message]
    assert placeholder.line == line_with(path, "safety_net.title:")


def test_a_text_left_in_english_is_a_warning_not_a_problem(folder: Path) -> None:
    texts = {key: stand_in(t) for key, t in catalogue(AUDIT).items()}
    texts["title"] = catalogue(AUDIT)["title"]
    path = write_translation(folder, AUDIT, texts=texts)
    problems, pairs, warnings = checked(folder)
    assert problems == []
    assert len(pairs) == 1
    (warning,) = warnings
    assert (
        str(warning) == f"{path}:{line_with(path, 'title:')}: title: the same as the English text"
    )


def test_every_shipped_translation_checks_and_triages_as_the_english() -> None:
    """The translations in questionnaires/ (and the pseudo-locale, so never none): valid, and
    the audit gives the same levels, reasons and plan in each as in English."""
    problems, pairs, _ = checked(QUESTIONNAIRES, pseudo=True)
    assert problems == []
    english = load_questionnaire(QUESTIONNAIRES / f"{AUDIT}.yaml")
    audits = [p for p in pairs if p.translation.translates == AUDIT]
    assert PSEUDO_LANGUAGE in {p.translation.language for p in audits}
    for pair in audits:
        translated = load_translated(pair)
        assert translated.version == english.version
        for changes in CASES:
            ours, theirs = (
                assess(translated, answers(**changes)),
                assess(english, answers(**changes)),
            )
            assert codes(ours) == codes(theirs), (pair.translation.language, changes)


def test_a_reviewed_translation_fails_once_the_english_changes_under_it(folder: Path) -> None:
    # Reviewed against today's English: it checks. Then one English text changes.
    who: dict[str, Any] = {"reviewed_by": "A. Nowak, physiotherapist", "reviewed_on": "2026-11-30"}
    path = write_translation(folder, AUDIT, status="reviewed", **who)
    assert checked(folder)[0] == []
    definition = folder / f"{AUDIT}.yaml"
    english = definition.read_text(encoding="utf-8")
    changed = english.replace(
        "Do you have new problems with peeing?", "Do you have any new problems with peeing?"
    )
    assert changed != english
    definition.write_text(changed, encoding="utf-8")
    said = only_problem(folder)
    assert f"{path}:{line_with(path, 'reviewed_english')}" in said
    assert "have changed since this translation was reviewed" in said
    # Without a fingerprint a reviewed file is refused, and told today's.
    write_translation(folder, AUDIT, status="reviewed", reviewed_english=None, **who)
    assert "records the English it was reviewed against" in only_problem(folder)
