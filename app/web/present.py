"""What the templates show: form fields ready to render, answers in words, and the result page
(the triage first, the contributor chart's geometry, the exercise plan in the order to read it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from app import display
from app.answer_text import imperial_name, show_number
from app.config import Settings
from app.engine import Question
from app.i18n import LANGUAGES, N_, current_language, format_day, gettext
from app.models import Assessment, Checkin, Clinic
from app.presentation.answers import answers_by_section
from app.services import clinics, result_language
from app.services.questionnaires import Registry
from app.units import IMPERIAL, to_imperial

from . import shown
from .forms import FieldError, PageInput, Units

# -- Form fields -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Part:
    """One input of an imperial measurement (feet and inches, stones and pounds)."""

    name: str
    label: str
    value: str


SCALE_ENDS = {
    "peg_enjoyment": (N_("not at all"), N_("completely")),
    "peg_activity": (N_("not at all"), N_("completely")),
}


@dataclass(slots=True)
class FieldView:
    question: Question
    kind: str  # boolean | choice | scale | multi | number | measure
    value: Any  # what to show as filled in: a string, or a list of codes
    error: FieldError | None = None
    units: Units = "metric"
    parts: list[Part] = field(default_factory=list)
    switch_url: str | None = None  # a measurement: the same page in the other units
    # The language of the question's own texts when it is not the page's (an untranslated
    # definition shown in English): put on them as `lang`.
    lang: str | None = None

    @property
    def id(self) -> str:
        return self.question.id

    @property
    def target(self) -> str:
        """The id of the first input: where the error summary and labels point."""
        if self.kind == "measure" and self.units == "imperial":
            return f"{self.id}-{self.parts[0].name}"
        return self.id

    @property
    def input_mode(self) -> str:
        return "numeric" if self.question.type == "integer" else "decimal"

    @property
    def scale_ends(self) -> tuple[str, str]:
        """The words under a scale's 0 and 10: the PEG interference items (audit and check-in)
        ask how much pain got in the way, not how bad it was."""
        low, high = SCALE_ENDS.get(self.id, (N_("no pain"), N_("worst pain")))
        return gettext(low), gettext(high)

    @property
    def width(self) -> str:
        """A width class that fits the longest answer (GOV.UK: width says what is expected)."""
        high = self.question.maximum or 0
        return "width-3" if high < 1000 else "width-5"


def field_views(
    questions: list[Question],
    *,
    answers: Mapping[str, Any],
    page_input: PageInput | None,
    units: Mapping[str, Units],
    base_url: str,
    query: Mapping[str, str],
    text_lang: str | None = None,
) -> list[FieldView]:
    errors = {e.question_id: e for e in page_input.errors} if page_input else {}
    views = []
    for question in questions:
        kind = _kind(question)
        view = FieldView(question, kind, None, errors.get(question.id), lang=text_lang)
        stored = answers.get(question.id)
        raw = page_input.raw if page_input else None
        if kind == "measure":
            view.units = units.get(question.id, "metric")
            view.switch_url = _switch_url(base_url, query, question, view.units)
            if view.units == "imperial":
                big, small, _ = IMPERIAL[question.widget or ""]
                if raw is not None:
                    values = (
                        raw.get(f"{question.id}-{big}", ""),
                        raw.get(f"{question.id}-{small}", ""),
                    )
                elif stored is not None:
                    whole, rest = to_imperial(question, stored)
                    values = (str(whole), show_number(rest))
                else:
                    values = ("", "")
                view.parts = [
                    Part(big, imperial_name(big), values[0]),
                    Part(small, imperial_name(small), values[1]),
                ]
                views.append(view)
                continue
        if raw is not None:
            view.value = raw.get(question.id, [] if kind == "multi" else "")
        else:
            view.value = _as_form_value(question, stored)
        views.append(view)
    return views


def _kind(question: Question) -> str:
    if question.type == "boolean":
        return "boolean"
    if question.type == "choice":
        return "choice"
    if question.type == "multi_choice":
        return "multi"
    if question.widget == "scale":
        return "scale"
    if question.widget in IMPERIAL:
        return "measure"
    return "number"


def _as_form_value(question: Question, value: Any) -> Any:
    if value is None:
        return [] if question.type == "multi_choice" else ""
    if question.type == "boolean":
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return show_number(value)
    return value


# Changing an answer from "check your answers" (app/web/form_pages.py Change): kept on the page.
CHANGE_PARAMS = ("change", "row", "was")


def _switch_url(base_url: str, query: Mapping[str, str], question: Question, units: Units) -> str:
    params = {k: v for k, v in query.items() if k in CHANGE_PARAMS or k.endswith("-units")}
    key = f"{question.id}-units"
    if units == "metric":
        params[key] = "imperial"
    else:
        params.pop(key, None)
    encoded = urlencode(params)
    return (
        f"{base_url}?{encoded}#{question.id}-fieldset"
        if encoded
        else f"{base_url}#{question.id}-fieldset"
    )


# -- The result page -------------------------------------------------------------------------------

# Contributors the person's page leaves out when an answer is yes: body weight in pregnancy (a
# BMI then says nothing about habits, and weight gain is expected). The record keeps its score,
# for staff, the export and FHIR; only the person's page (and its PDF) is spared the advice.
NOT_SHOWN_WHEN = {"weight": "pregnant"}


def result_view(
    assessment: Assessment,
    registry: Registry,
    settings: Settings,
    *,
    token: str,
    sent_to: str | None,
    checkins: Sequence[Checkin] = (),
) -> dict[str, Any]:
    """What the result page (and its PDF) shows, from the record as stored: never evaluated
    again. Results stored by version 1.0.0 have no safety net and no clinician texts, and
    name each block's start step by its code; the template and display.plan_blocks allow it.

    After check-ins, the plan is the one the last of them left; a check-in that did not end in
    self-care puts the plan on hold and leads the page with its advice."""
    # The stored result is English; in another language it is worked out again from the stored
    # answers with the translation, or, where that cannot be done exactly, shown in English and
    # marked so (text_lang).
    language = current_language().code
    result, used = result_language.assessment_result(
        registry,
        assessment.result,
        assessment.answers,
        language,
        released=assessment.released_at is not None,
    )
    level = result["triage"]["level"]
    found = registry.level(level, assessment.questionnaire_id)
    # The most urgent level (it ends the interview) leads with what to do now, and nothing else.
    # Its rank is stored with the record: this never depends on a definition still loaded.
    most_urgent = assessment.triage_rank == 0
    plan = result.get("plan")
    latest = None
    plan_lang = used
    if checkins and plan:
        last = checkins[-1]
        # The check-ins' stored results are English too: worked out again in the language.
        last_result, last_lang = result_language.one_checkin(
            registry, assessment, checkins, -1, language
        )
        last_triage = last_result["triage"]
        last_level = registry.level(last.triage_level, last.questionnaire_id)
        latest = {
            "at": last.created_at,
            "url": f"/result/{token}/checkins/{last.id}",
            "title": last_triage["title"],
            "advice": last_triage["advice"],
            "reasons": [reason["message"] for reason in last_triage["reasons"]],
            "lang": _lang_of(last_lang, language),
            "look": display.level_look(last_level, last.triage_level),
            # Not self-care: the check-in's advice leads the page. With no plan (an urgent
            # sign) the exercises stop; at see-a-doctor only what made the pain worse pauses.
            "leads": last.triage_level
            != registry.for_record(
                last.questionnaire_id, last.questionnaire_version
            ).self_care_level,
            "on_hold": not last.result.get("plan"),
            "paused": [c["block"] for c in last.result.get("changes", []) if c.get("paused")],
            # A warning sign at the check-in: the call button, as on an urgent result.
            "help_now": display.help_now(
                settings.help_lines,
                most_urgent=last.triage_rank == 0,
                urgent=bool(last_level and last_level.urgent),
            ),
        }
        if latest["on_hold"]:
            plan = None
        else:
            # Not on hold: the newest check-in left a plan, the one from then on.
            plan, plan_lang = result_language.plan_after(result, used, [(last_result, last_lang)])
    focus, optional = display.plan_blocks(plan)
    # The definition the record was made with (its own version), for its words.
    q = registry.for_record(assessment.questionnaire_id, assessment.questionnaire_version)
    words = registry.for_record(q.id, q.version, used)
    if found is not None:
        found = words.level_by_code.get(found.code, found)
    # Urgent and emergency pages say what to do now, not which habits to change (staff pages
    # keep the contributors).
    habits_shown = not (most_urgent or (found is not None and found.urgent))
    contributors = [
        c
        for c in (result["contributors"] if habits_shown else [])
        if assessment.answers.get(NOT_SHOWN_WHEN.get(c["code"], "")) is not True
    ]
    path = f"/result/{token}"
    return {
        "result": result,
        "level": level,
        # After a clinician's release the page leads with it (the level stays in the record).
        "text_lang": None if used == language else shown.text_lang(words),
        "look": display.released_look(words.level_by_code.get(q.self_care_level))
        if result.get("release")
        else display.level_look(found, level),
        "most_urgent": most_urgent,
        "help_now": display.help_now(
            settings.help_lines, most_urgent=most_urgent, urgent=bool(found and found.urgent)
        ),
        "self_care": level == q.self_care_level,
        "contributors": contributors,
        # False on urgent and emergency pages: no habits block at all (not "none stood out").
        "habits_shown": habits_shown,
        # See a doctor: a clinic may release the programme after review (not yet done).
        "releasable": bool(found and found.releasable)
        and assessment.released_at is None
        and not result.get("plan"),
        "chart": display.contributor_chart(contributors),
        "score_words": {score: gettext(words) for score, words in display.SCORE_WORDS.items()},
        "focus_blocks": focus,
        "optional_blocks": optional,
        "plan": plan,
        # The plan's texts when they are not in the page's language (a check-in kept English).
        "plan_lang": _lang_of(plan_lang, language),
        "latest_checkin": latest,
        # A clinician released the programme: who and when; its questions, while unanswered.
        "release": result.get("release"),
        "release_questions": f"{path}/before-you-exercise"
        if assessment.released_at is not None and not result.get("plan")
        else None,
        "complete": assessment.complete,
        "sent_to": sent_to,
        "created_on": format_day(assessment.created_at),
        "release_on": format_day(assessment.released_at) if assessment.released_at else "",
        "answer_groups": answers_by_section(
            registry,
            assessment.questionnaire_id,
            assessment.questionnaire_version,
            assessment.answers,
            language=used,
        ),
        "result_link": settings.public_url.rstrip("/") + path,
        "pdf_url": f"{path}/pdf",
        "checkin_info_url": f"{path}/checkin",
        "delete_url": f"{path}/delete",
    }


def _lang_of(used: str, language: str) -> str | None:
    """The ``lang`` of texts in ``used`` on a page in ``language``: None when the same."""
    if used == language:
        return None
    known = LANGUAGES.get(used)
    return known.html_lang if known else used


def moment(at: datetime, clinic: Clinic | None) -> str:
    """A time the person sees with its day: in their clinic's time zone, else in UTC (which
    the page names, as the server cannot know the person's)."""
    zone = clinics.zone_of(clinic) if clinic else UTC
    local = at.astimezone(zone)
    return gettext("%(day)s at %(time)s %(zone)s") % {
        "day": format_day(local),
        "time": local.strftime("%H:%M"),
        "zone": local.strftime("%Z"),
    }
