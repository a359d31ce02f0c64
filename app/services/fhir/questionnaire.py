"""The definition as a FHIR R4 ``Questionnaire``: sections and pages as groups, in order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from app.engine import Option, Page, Question, Questionnaire, Section

from .coding import option_system, page_link_id, questionnaire_url, section_link_id
from .conditions import add_condition
from .fhirpath import CONTEXT_LINK_ID, FhirPath, variable_name
from .narrative import narrative

STOP_CONDITION_URL: Final = "urn:backaudit:fhir:extension:stop-condition"
DERIVED_LINK_ID: Final = "derived"  # the hidden group of derived values
VARIABLE_URL: Final = "http://hl7.org/fhir/StructureDefinition/variable"
_SDC: Final = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-"
CALCULATED_EXPRESSION_URL: Final = _SDC + "calculatedExpression"
_ITEM_MEDIA: Final = _SDC + "itemMedia"
_HIDDEN: Final = {
    "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden",
    "valueBoolean": True,
}
_OPTION_EXCLUSIVE: Final = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
_SLIDER_STEP: Final = "http://hl7.org/fhir/StructureDefinition/questionnaire-sliderStepValue"
_ENTRY_FORMAT: Final = "http://hl7.org/fhir/StructureDefinition/entryFormat"
UCUM: Final = "http://unitsofmeasure.org"
_ITEM_CONTROL: Final = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
_ITEM_CONTROL_SYSTEM: Final = "http://hl7.org/fhir/questionnaire-item-control"
# Our units in UCUM; a unit not listed is sent as text only.
_UCUM_CODES: Final = {
    "years": "a",
    "cm": "cm",
    "kg": "kg",
    "hours": "h",
    "days": "d",
    "minutes a week": "min/wk",
}
FHIR_ITEM_TYPE: Final = {
    "boolean": "boolean",
    "integer": "integer",
    "number": "decimal",
    "choice": "choice",
    "multi_choice": "choice",
}


def questionnaire_resource(
    q: Questionnaire, *, base_url: str, translations: Iterable[Questionnaire] = ()
) -> dict[str, Any]:
    """The definition as a FHIR R4 Questionnaire that an SDC form filler can run: every
    condition that shows an item, the emergency stop among them, is on the item (see
    ``conditions``), with the answers, derived values and the triage level as root
    ``variable`` extensions. The stop condition is also kept as written in the
    ``urn:backaudit:fhir:extension:stop-condition`` extension, for people.

    ``Questionnaire.language`` is the base language of its texts; ``translations`` (the same
    version in other languages, Registry.translations) go beside each text they change, in
    FHIR's ``translation`` extension on the text's primitive element (``_text``, ``_display``,
    ``_title``, ``_description``)."""
    resource = _resource(q, base_url)
    for translated in translations:
        if (translated.id, translated.version) != (q.id, q.version):
            raise ValueError(f"{translated.id} {translated.version} does not translate {q.id}")
        add_translations(resource, _resource(translated, base_url), translated.language)
    return resource


TRANSLATION_URL: Final = "http://hl7.org/fhir/StructureDefinition/translation"
# The elements that hold texts a person reads: an item's text, an option's display, the
# questionnaire's title and description, a picture's title.
_TRANSLATABLE: Final = ("text", "display", "title", "description")


def add_translations(ours: Any, theirs: Any, language: str) -> None:
    """Walk two exports of one definition (the same shape: only texts differ) and put each
    text of ``theirs`` that differs beside ours, as a translation into ``language``."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key, value in list(ours.items()):
            other = theirs.get(key)
            if key in _TRANSLATABLE and isinstance(value, str):
                if isinstance(other, str) and other != value:
                    element = ours.setdefault(f"_{key}", {})
                    element.setdefault("extension", []).append(
                        {
                            "url": TRANSLATION_URL,
                            "extension": [
                                {"url": "lang", "valueCode": language},
                                {"url": "content", "valueString": other},
                            ],
                        }
                    )
            elif not key.startswith("_"):
                add_translations(value, other, language)
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for mine, other in zip(ours, theirs, strict=True):
            add_translations(mine, other, language)


def _resource(q: Questionnaire, base_url: str) -> dict[str, Any]:
    paths = FhirPath(q)
    extensions: list[dict[str, Any]] = [
        {
            "url": VARIABLE_URL,
            "valueExpression": {
                "name": variable.name,
                "language": "text/fhirpath",
                "expression": variable.expression,
            },
        }
        for variable in paths.variables()
    ]
    if q.stop_when is not None:
        extensions.append({"url": STOP_CONDITION_URL, "valueString": q.stop_when.source})
    export = _Export(q, paths, base_url)
    items = [export.section_item(section) for section in q.sections]
    if q.context:
        items.insert(0, export.context_item())
    if q.derived:
        items.append(export.derived_item())
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": q.id,
        "language": q.language,
        "extension": extensions,
        "url": questionnaire_url(base_url, q.id),
        "version": q.version,
        "name": "".join(part.capitalize() for part in q.id.replace("_", "-").split("-")),
        "title": q.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": q.description,
        "item": items,
    }
    resource["text"] = narrative(
        f"{q.title}, version {q.version}", (section.title for section in q.sections)
    )
    return resource


class _Export:
    """The items of one questionnaire, with what the stop condition reads worked out once."""

    def __init__(self, q: Questionnaire, paths: FhirPath, base_url: str) -> None:
        self.q = q
        self.paths = paths
        self.base_url = base_url.rstrip("/")
        self.stop = q.stop_when.tree if q.stop_when is not None else None
        # The questions whose answers can stop the interview.
        self.stop_reads = (
            paths.condition_needs(q.stop_when) if q.stop_when is not None else frozenset()
        )

    def _stops_before(self, position: int) -> bool:
        """Whether every answer that can stop the interview comes before ``position``: from
        there on, whether it stopped is decided."""
        return all(self.q.question_by_id[n].position < position for n in self.stop_reads)

    def section_item(self, section: Section) -> dict[str, Any]:
        item: dict[str, Any] = {
            "linkId": section_link_id(section),
            "text": section.title,
            "type": "group",
        }
        start = section.pages[0].questions[0].position
        # The stop goes on the section when it is decided before the section starts (the same
        # for every page in it), and on each page otherwise.
        on_section = self._stops_before(start)
        add_condition(
            item,
            self.q,
            section.when,
            paths=self.paths,
            before=start,
            stop=self.stop if on_section else None,
        )
        item["item"] = [self._page_item(page, stop=not on_section) for page in section.pages]
        return item

    def _page_item(self, page: Page, *, stop: bool) -> dict[str, Any]:
        q = self.q
        item: dict[str, Any] = {"linkId": page_link_id(page), "text": page.title, "type": "group"}
        add_condition(
            item,
            q,
            page.when,
            paths=self.paths,
            before=page.questions[0].position,
            stop=self.stop if stop else None,
        )
        children: list[dict[str, Any]] = []
        if page.intro:
            children.append(
                {"linkId": f"{page_link_id(page)}-intro", "text": page.intro, "type": "display"}
            )
        # An answer on this page can stop the interview, and then nothing more is required.
        may_stop = any(question.id in self.stop_reads for question in page.questions)
        children.extend(
            _question_item(q, question, paths=self.paths, base_url=self.base_url, may_stop=may_stop)
            for question in page.questions
        )
        item["item"] = children
        return item

    def context_item(self) -> dict[str, Any]:
        """The values the app gives with the answers (a follow-up's plan, a release): hidden
        items, filled in by the app, which conditions read like answers."""
        items = []
        for value in self.q.context.values():
            item: dict[str, Any] = {
                "linkId": value.id,
                "text": value.label or value.id,
                "type": FHIR_ITEM_TYPE[value.type],
                "readOnly": True,
                "extension": [_HIDDEN],
            }
            if value.type == "multi_choice":
                item["repeats"] = True
            if value.options:
                system = option_system(self.q.id, value.id)
                item["answerOption"] = [
                    {"valueCoding": {"system": system, "code": code}}
                    for code in sorted(value.options)
                ]
            items.append(item)
        return {
            "linkId": CONTEXT_LINK_ID,
            "text": "Given by the app, not asked",
            "type": "group",
            "extension": [_HIDDEN],
            "item": items,
        }

    def derived_item(self) -> dict[str, Any]:
        """The derived values (BMI, PEG, counts), worked out by the form from the answers."""
        items = []
        for derived in self.q.derived:
            items.append(
                {
                    "linkId": derived.id,
                    "text": derived.label or derived.id,
                    "type": "boolean" if derived.expr.type == "yes/no" else "decimal",
                    "readOnly": True,
                    "extension": [
                        _HIDDEN,
                        {
                            "url": CALCULATED_EXPRESSION_URL,
                            "valueExpression": {
                                "language": "text/fhirpath",
                                "expression": f"%{variable_name(derived.id)}",
                            },
                        },
                    ],
                }
            )
        return {
            "linkId": DERIVED_LINK_ID,
            "text": "Worked out from the answers",
            "type": "group",
            "extension": [_HIDDEN],
            "item": items,
        }


def _question_item(
    q: Questionnaire, question: Question, *, paths: FhirPath, base_url: str, may_stop: bool
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": question.id,
        "text": question.text,
        "type": FHIR_ITEM_TYPE[question.type],
        # What the engine requires once the question is shown: not on a page whose answers
        # can stop the interview, as an emergency answer there leaves the rest unrequired.
        "required": question.required and not may_stop,
    }
    extensions: list[dict[str, Any]] = []
    value_key = "valueInteger" if question.type == "integer" else "valueDecimal"
    for url, bound in (
        ("http://hl7.org/fhir/StructureDefinition/minValue", question.minimum),
        ("http://hl7.org/fhir/StructureDefinition/maxValue", question.maximum),
    ):
        if bound is not None:
            value = int(bound) if question.type == "integer" else bound
            extensions.append({"url": url, value_key: value})
    if question.unit:
        coding: dict[str, Any] = {"display": question.unit}
        if question.unit in _UCUM_CODES:
            coding = {"system": UCUM, "code": _UCUM_CODES[question.unit], "display": question.unit}
        extensions.append(
            {
                "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit",
                "valueCoding": coding,
            }
        )
    extensions.extend(_rendering_hints(question, base_url))
    if extensions:
        item["extension"] = extensions
    if question.type == "multi_choice":
        item["repeats"] = True
    if question.options:
        system = option_system(q.id, question.id)
        item["answerOption"] = [_answer_option(system, option) for option in question.options]
    add_condition(item, q, question.when, paths=paths, before=question.position)
    if question.hint:
        item["item"] = [_help_item(f"{question.id}-help", question.hint)]
    return item


def _rendering_hints(question: Question, base_url: str) -> list[dict[str, Any]]:
    """How the app shows the question, where SDC has a word for it: a 0 to 10 scale as a
    slider, the expected range as the entry format, the movement check's picture."""
    hints: list[dict[str, Any]] = []
    if question.widget == "scale":
        hints.append(_item_control("slider"))
        hints.append({"url": _SLIDER_STEP, "valueInteger": 1})
    elif question.type in ("integer", "number") and None not in (
        question.minimum,
        question.maximum,
    ):
        low, high = (_number(b) for b in (question.minimum, question.maximum))
        unit = f" {question.unit}" if question.unit else ""
        hints.append({"url": _ENTRY_FORMAT, "valueString": f"{low} to {high}{unit}"})
    if question.image:
        media: dict[str, Any] = {
            "contentType": "image/svg+xml" if question.image.endswith(".svg") else "image/png",
            "url": f"{base_url}/static/exercises/{question.image}",
        }
        if question.image_alt:
            media["title"] = question.image_alt
        hints.append({"url": _ITEM_MEDIA, "valueAttachment": media})
    return hints


def _answer_option(system: str, option: Option) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "valueCoding": {"system": system, "code": option.code, "display": option.label}
    }
    if option.exclusive:  # "none of these": a form clears the other choices when it is picked
        answer["extension"] = [{"url": _OPTION_EXCLUSIVE, "valueBoolean": True}]
    return answer


def _help_item(link_id: str, text: str) -> dict[str, Any]:
    return {
        "linkId": link_id,
        "text": text,
        "type": "display",
        "extension": [_item_control("help")],
    }


def _item_control(code: str) -> dict[str, Any]:
    return {
        "url": _ITEM_CONTROL,
        "valueCodeableConcept": {"coding": [{"system": _ITEM_CONTROL_SYSTEM, "code": code}]},
    }


def _number(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else str(value)
