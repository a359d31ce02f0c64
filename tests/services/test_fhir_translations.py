"""The FHIR Questionnaire in its base language (``Questionnaire.language``), with every offered
translation of each text in FHIR's ``translation`` extension on the text's primitive element."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire

from app.engine import PSEUDO_LANGUAGE, Questionnaire
from app.services import fhir
from app.services.fhir.questionnaire import TRANSLATION_URL
from app.services.questionnaires import Registry

BASE_URL = "http://127.0.0.1:8000"


def items(item_list: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in item_list:
        yield item
        yield from items(item.get("item", []))


def translations(element: dict[str, Any] | None) -> dict[str, str]:
    """A primitive element's translations, by language (each language once)."""
    out: dict[str, str] = {}
    for extension in (element or {}).get("extension", []):
        assert extension["url"] == TRANSLATION_URL
        parts = {e["url"]: e for e in extension["extension"]}
        assert parts["lang"]["valueCode"] not in out
        out[parts["lang"]["valueCode"]] = parts["content"]["valueString"]
    return out


def test_every_question_and_option_carries_its_translations(registry: Registry) -> None:
    for english in registry.all():
        translated = registry.translations(english)
        assert PSEUDO_LANGUAGE in [q.language for q in translated]  # offered in tests
        pseudo = next(q for q in translated if q.language == PSEUDO_LANGUAGE)
        resource = fhir.questionnaire_resource(english, base_url=BASE_URL, translations=translated)
        assert resource["language"] == "en"
        assert translations(resource["_title"])[PSEUDO_LANGUAGE] == pseudo.title
        by_link = {item["linkId"]: item for item in items(resource["item"])}
        for question in english.questions:
            item = by_link[question.id]
            theirs = pseudo.question_by_id[question.id]
            assert item["text"] == question.text
            assert translations(item.get("_text"))[PSEUDO_LANGUAGE] == theirs.text, question.id
            for option, their_option in zip(
                item.get("answerOption", []), theirs.options, strict=True
            ):
                coding = option["valueCoding"]
                assert coding["code"] == their_option.code
                assert translations(coding.get("_display"))[PSEUDO_LANGUAGE] == their_option.label
            if question.hint:
                help_item = by_link[f"{question.id}-help"]
                assert translations(help_item["_text"])[PSEUDO_LANGUAGE] == theirs.hint
        for page in english.pages:
            assert PSEUDO_LANGUAGE in translations(by_link[fhir.page_link_id(page)]["_text"])
        FhirQuestionnaire.model_validate(resource)


def test_without_translations_the_export_is_as_before_but_says_its_language(
    registry: Registry,
) -> None:
    english: Questionnaire = registry.default
    plain = fhir.questionnaire_resource(english, base_url=BASE_URL)
    assert plain["language"] == "en"
    assert "_text" not in str(plain)
    with_them = fhir.questionnaire_resource(
        english, base_url=BASE_URL, translations=registry.translations(english)
    )
    assert with_them["item"][0]["linkId"] == plain["item"][0]["linkId"]
    assert len(str(with_them)) > len(str(plain))
