"""The registry's languages (app/services/questionnaires.py): a draft translation is offered
only where drafts are, a reviewed one always, English otherwise; a broken translation stops
the app starting; the pseudo-locale is for tests, never production."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from app.config import Languages, Settings
from app.engine import PSEUDO_LANGUAGE, DefinitionError, evaluate
from app.main import create_app
from app.models import Assessment
from app.services import checkins
from app.services.questionnaires import DEFAULT_QUESTIONNAIRE, Registry, negotiate
from tests.fixtures import EXAMPLE_ANSWERS, checkin_answers, record_assessment
from tests.support.settings import settings_with
from tests.support.translations import AUDIT, BLOCKS, write_translation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
REVIEWED: dict[str, Any] = {
    "status": "reviewed",
    "reviewed_by": "A. Nowak, physiotherapist",
    "reviewed_on": "2026-11-30",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The audit, the check-in and their exercise blocks, with an "xx" draft of the audit."""
    for name in ("low-back-audit.yaml", "low-back-checkin.yaml", "exercise-blocks.yaml"):
        shutil.copy(QUESTIONNAIRES / name, tmp_path)
    for stem in (AUDIT, BLOCKS):
        write_translation(tmp_path, stem, name="Iksiński")
    return tmp_path


def test_a_draft_language_is_offered_only_where_drafts_are(folder: Path) -> None:
    drafts = Registry.load(folder, DEFAULT_QUESTIONNAIRE, offer_draft=True)
    assert [(lang.tag, lang.name, lang.status) for lang in drafts.languages] == [
        ("en", "English", "base"),
        ("xx", "Iksiński", "draft"),
    ]
    audit = drafts.get(AUDIT, "xx")
    assert audit.language == "xx"
    assert audit.title.startswith("XX ")
    # The check-in has no translation: asked for in xx, it is English.
    assert drafts.get("low-back-checkin", "xx").language == "en"
    assert drafts.for_record(AUDIT, "2.1.0", "xx") is audit
    assert drafts.for_record(AUDIT, "9.9.9", "xx") is audit  # the newest, in xx
    assert drafts.exact(AUDIT, "2.1.0", "xx") is audit
    assert drafts.get(AUDIT).language == "en"
    assert drafts.get(AUDIT, "de").language == "en"
    assert drafts.negotiate("xx-YY, en;q=0.1") == "xx"

    production = Registry.load(folder, DEFAULT_QUESTIONNAIRE, offer_draft=False)
    assert [lang.tag for lang in production.languages] == ["en"]
    assert production.get(AUDIT, "xx").language == "en"
    assert production.negotiate("xx") == "en"
    assert production.translations(production.get(AUDIT)) == []


def test_a_reviewed_language_is_always_offered(folder: Path) -> None:
    write_translation(folder, AUDIT, name="Iksiński", **REVIEWED)
    # Reviewed only when its exercise blocks are too: a plan half reviewed is a draft.
    half = Registry.load(folder, DEFAULT_QUESTIONNAIRE, offer_draft=False)
    assert [lang.tag for lang in half.languages] == ["en"]
    write_translation(folder, BLOCKS, name="Iksiński", **REVIEWED)
    registry = Registry.load(folder, DEFAULT_QUESTIONNAIRE, offer_draft=False)
    assert [(lang.tag, lang.status) for lang in registry.languages] == [
        ("en", "base"),
        ("xx", "reviewed"),
    ]
    assert registry.get(AUDIT, "xx").language == "xx"


def test_a_broken_translation_stops_the_app_starting_even_when_drafts_are_not_offered(
    folder: Path, settings: Settings
) -> None:
    path = folder / f"{AUDIT}.xx.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{emergency_name}", "{emergency}"))
    with pytest.raises(DefinitionError) as raised:
        Registry.load(folder, DEFAULT_QUESTIONNAIRE, offer_draft=False)
    assert any(p.file == str(path) and "placeholders" in p.message for p in raised.value.problems)
    with pytest.raises(DefinitionError):
        create_app(settings_with(settings, questionnaires_dir=folder))


def test_the_pseudo_locale_is_offered_in_tests_and_never_in_production(
    folder: Path, settings: Settings
) -> None:
    assert settings.languages.offered(settings.environment) == (True, True)
    tested = Registry.load(folder, DEFAULT_QUESTIONNAIRE, offer_draft=True, pseudo_locale=True)
    assert {lang.tag for lang in tested.languages} == {"en", "xx", PSEUDO_LANGUAGE}
    assert tested.get("low-back-checkin", PSEUDO_LANGUAGE).language == PSEUDO_LANGUAGE
    # Only with drafts: it is one.
    no_drafts = Registry.load(folder, DEFAULT_QUESTIONNAIRE, offer_draft=False, pseudo_locale=True)
    assert [lang.tag for lang in no_drafts.languages] == ["en"]

    unset = settings.languages
    assert unset.offered("production") == (False, False)
    assert unset.offered("development") == (True, False)
    # A production site may offer drafts on purpose (a pilot), but never the pseudo-locale.
    pilot = Languages(offer_draft=True, pseudo_locale=True)
    assert pilot.offered("production") == (True, False)
    assert pilot.offered("development") == (True, True)
    assert Languages(offer_draft=False, pseudo_locale=True).offered("test") == (False, False)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("pl", "pl"),
        ("pl-PL,pl;q=0.9,en-US;q=0.8", "pl"),
        ("de-DE, fr;q=0.9", "en"),
        ("de, pl;q=0.5, en;q=0.4", "pl"),
        ("en;q=0.9, pl", "pl"),
        ("pl;q=0, en", "en"),
        ("PL", "pl"),
        ("pl;q=bad", "en"),
        ("*;q=0.5, pl;q=0.1", "en"),
    ],
)
def test_negotiation_follows_the_header_s_preferences(header: str | None, expected: str) -> None:
    assert negotiate(header, ["en", "pl"]) == expected


def test_results_are_stored_in_english_whatever_the_language_read(
    db: Session, registry: Registry
) -> None:
    """A door that asked in another language still stores the English result: an assessment's
    evaluation must be the English questionnaire's, and a check-in's is made again in English."""
    pseudo = registry.get(DEFAULT_QUESTIONNAIRE, PSEUDO_LANGUAGE)
    assert pseudo.language == PSEUDO_LANGUAGE
    with pytest.raises(ValueError, match="English"):
        record_assessment(db, pseudo, EXAMPLE_ANSWERS, channel="web")
    recorded = record_assessment(db, registry.default, EXAMPLE_ANSWERS, channel="web", now=T0)
    db.commit()
    assessment = db.get_one(Assessment, recorded.id)
    answers = checkin_answers()
    checkin_q = registry.get("low-back-checkin", PSEUDO_LANGUAGE)
    context = checkins.context_for(registry, assessment, [], answers, T0 + timedelta(days=15))
    in_pseudo = evaluate(checkin_q, answers, context)
    stored = checkins.record_checkin(
        db, registry, assessment, answers, evaluation=in_pseudo, channel="web",
        now=T0 + timedelta(days=15),
    )  # fmt: skip
    db.commit()
    english = registry.get("low-back-checkin").level_by_code[stored.result["triage"]["level"]]
    assert stored.result["triage"]["title"] == english.title
    assert "ẋ" not in str(stored.result)  # no text of the pseudo-locale anywhere
