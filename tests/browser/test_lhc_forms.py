"""The exported FHIR Questionnaire in another app's form filler: NLM's LHC-Forms (npm `lforms`,
a dev dependency) in headless Chromium shows exactly the questions backaudit asks.

Each path's answers (those the engine keeps) are loaded into the form as a
QuestionnaireResponse; LHC-Forms then runs the Questionnaire's enableWhen and SDC
enableWhenExpression with its own FHIRPath engine (fhirpath.js), and the questions it renders
are compared with the engine's. Then the QuestionnaireResponse LHC-Forms makes of the filled
form (``getFormFHIRData``: its own, with its ``text``, ``display``, ``meta`` and ``authored``,
and without the hidden items) is posted to the API's FHIR-in endpoint and must get the level
the engine gives those answers, as the web form does. The lforms build is served to the page by Playwright at the
live server's address (nothing of it is in the app), as UTF-8: its FHIRPath parser breaks when
read as Latin-1.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.engine import evaluate, triage_level
from app.models import Assessment, utcnow
from app.services import checkins as checkin_service
from app.services.api_keys import create_api_key
from app.services.questionnaires import Registry
from tests.browser.conftest import LiveServer
from tests.fixtures import EXAMPLE_ANSWERS, checkin_answers
from tests.support.sdc import asked_and_response

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LFORMS = ROOT / "node_modules" / "lforms" / "dist" / "lforms"
FORM_PAGE = """<!doctype html>
<html lang="en"><head><title>LHC-Forms</title>
<link href="/lforms-test/webcomponent/styles.css" rel="stylesheet"></head>
<body><div id="form"></div>
<script src="/lforms-test/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lforms-test/webcomponent/lhc-forms.js"></script></body></html>"""
# Render the Questionnaire with a response's answers: the question items LHC-Forms shows, and
# the QuestionnaireResponse it makes of the filled form itself.
RENDER = """async ([questionnaire, response, questionIds]) => {
    const form = LForms.Util.convertFHIRQuestionnaireToLForms(questionnaire, 'R4');
    const filled = LForms.Util.mergeFHIRDataIntoLForms('QuestionnaireResponse', response, form, 'R4');
    await LForms.Util.addFormToPage(filled, 'form', {fhirVersion: 'R4'});
    const shown = questionIds.filter(id => document.querySelector(`[id^="item-${id}/"]`) !== null);
    const own = LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', '#form');
    return [shown, own];
}"""

# Each path is complete (the web form would end it): changes to the self-care answers.
AUDIT_PATHS: dict[str, dict[str, Any]] = {
    "emergency on the first signs": {"saddle_numbness": True},
    "emergency on a later safety page": {"serious_accident": "last_6_weeks"},
    "emergency in the pain section": {"cancer_history": True, "leg_pain": "below_knee"},
    "urgent": {"fever": True},
    "see a doctor": {"pain_intensity": 9},
    "self-care": {},
    "self-care, hip problems": {
        "joint_problems": ["hip"],
        "hip_replacement": "under_12_weeks",
        "hip_precautions": True,
    },
    "self-care, a shoulder problem: no hang": {"joint_problems": ["shoulder"]},
    "self-care, 80 years old: no hang": {"age": 80},
    "2.1: a spine operation, long-standing pain at 50": {
        "spine_diagnosis": ["spine_surgery"],
        "pain_duration": "over_12_weeks",
        "age": 50,
        "recent_flare": False,
        "spine_procedure_recent": False,
        "began_before_45": False,
    },
    "height and weight not known": {"knows_height_weight": False, "weight_self_rating": "healthy"},
    "sport and weights": {
        "plays_sports": True,
        "lifts_weights": True,
        "one_sided_sport": True,
        "loaded_squats": False,
    },
}


@pytest.fixture
def lhc_forms(new_page: Callable[..., Any], live_server: LiveServer) -> Any:
    if not (LFORMS / "webcomponent" / "lhc-forms.js").exists():
        pytest.skip("the LHC-Forms tests need lforms: run `npm ci` in the project folder")
    page = new_page()

    def serve(route: Any) -> None:
        path = route.request.url.split("/lforms-test/", 1)[1].split("?", 1)[0]
        if path == "form.html":
            route.fulfill(body=FORM_PAGE, content_type="text/html; charset=utf-8")
            return
        file = (LFORMS / path).resolve()
        assert file.is_relative_to(LFORMS)
        kind = "text/css" if file.suffix == ".css" else "application/javascript"
        route.fulfill(body=file.read_bytes(), content_type=f"{kind}; charset=utf-8")

    page.route(f"{live_server.url}/lforms-test/**", serve)
    page.goto("/lforms-test/form.html")
    page.wait_for_function("() => window.LForms && window.LForms.Util")
    page.add_script_tag(url="/lforms-test/fhir/R4/lformsFHIR.min.js")
    return page


@pytest.fixture
def api_key(live_server: LiveServer) -> dict[str, str]:
    with live_server.session() as session:
        _, key = create_api_key(session, name="form filler")
        session.commit()
    return {"Authorization": f"Bearer {key}"}


def shown_by_lhc_forms(
    page: Any, questionnaire: dict[str, Any], response: dict[str, Any], ids: list[str]
) -> tuple[set[str], dict[str, Any]]:
    """The questions LHC-Forms shows, and its own QuestionnaireResponse of the form."""
    shown, own = page.evaluate(RENDER, [questionnaire, response, ids])
    return set(shown), own


def posted(page: Any, path: str, body: dict[str, Any], key: dict[str, str]) -> Any:
    """The API's answer to a request: FHIR in (``…/fhir``, a QuestionnaireResponse) or JSON."""
    kind = "application/fhir+json" if path.endswith("/fhir") else "application/json"
    answer = page.request.post(path, data=json.dumps(body), headers={**key, "Content-Type": kind})
    assert answer.status == 201, answer.text()
    return answer.json()


def test_lhc_forms_asks_what_the_engine_asks_along_every_audit_path(
    lhc_forms: Any, registry: Registry, api_key: dict[str, str]
) -> None:
    q = registry.get("low-back-audit")
    questionnaire = lhc_forms.request.get("/api/v1/questionnaires/low-back-audit/fhir").json()
    ids = [question.id for question in q.questions]
    released = {**EXAMPLE_ANSWERS, "pain_intensity": 9}
    paths: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        (name, {**EXAMPLE_ANSWERS, **changes}, {}) for name, changes in AUDIT_PATHS.items()
    ]
    paths += [
        ("see a doctor, released", released, {"released": True}),
        ("see a doctor, not released", released, {"released": False}),
    ]
    for name, answers, context in paths:
        asked, response = asked_and_response(q, answers, context)
        shown, own = shown_by_lhc_forms(lhc_forms, questionnaire, response, ids)
        assert (name, shown) == (name, asked)
        # LHC-Forms' own response, posted back, gets the level the web form gives.
        record = posted(lhc_forms, "/api/v1/assessments/fhir", own, api_key)
        level = triage_level(q, evaluate(q, answers, context).context)
        assert (name, record["result"]["triage"]["level"]) == (name, level)
    # The paths went where they should: the stop, and the checks only where allowed.
    assert "page-squat" not in asked  # the last: not released, see a doctor
    stop, _ = asked_and_response(q, {**EXAMPLE_ANSWERS, "saddle_numbness": True}, {})
    # The rest of its page is shown (a yes there ends the form, whatever else it holds), the
    # pages after it are not.
    assert "both_legs" in stop
    assert "fever" not in stop
    assert "squat_check" in asked_and_response(q, released, {"released": True})[0]


def test_lhc_forms_asks_what_the_engine_asks_in_a_check_in(
    lhc_forms: Any, registry: Registry, live_server: LiveServer, api_key: dict[str, str]
) -> None:
    q = registry.get("low-back-checkin")
    questionnaire = lhc_forms.request.get("/api/v1/questionnaires/low-back-checkin/fhir").json()
    ids = [question.id for question in q.questions]
    context = {
        "plan_blocks": ["pelvic_tilts", "hip_bridge"],
        "weeks_since_start": 2,
        "baseline_peg": 4.0,
        "baseline_pain": 4,
        "cancer_history": False,
        "age": 40,
        "pregnant_at_start": False,
        "osteoporosis_or_steroids": False,
    }
    paths = [
        ("keep going", checkin_answers(), context),
        ("an emergency sign", checkin_answers(saddle_numbness=True), context),
        ("urgent: no exercises", checkin_answers(fever=True), context),
        ("every block", checkin_answers(), {**context, "plan_blocks": ["squat_mobility"]}),
    ]
    for name, answers, given in paths:
        asked, response = asked_and_response(q, answers, given)
        shown, _ = shown_by_lhc_forms(lhc_forms, questionnaire, response, ids)
        assert (name, shown) == (name, asked)
    # Posted back: each to a self-care result of its own (a check-in changes what the next one
    # reads), filled with the context the app gives that result's check-ins.
    for name, answers, _ in paths[:3]:
        assessment = posted(lhc_forms, "/api/v1/assessments", {"answers": EXAMPLE_ANSWERS}, api_key)
        with live_server.session() as session:
            stored = session.get(Assessment, uuid.UUID(assessment["id"]))
            assert stored is not None
            given = checkin_service.context_for(registry, stored, [], answers, utcnow())
        asked, response = asked_and_response(q, answers, given)
        shown, own = shown_by_lhc_forms(lhc_forms, questionnaire, response, ids)
        assert (name, shown) == (name, asked)
        path = f"/api/v1/assessments/{assessment['id']}/checkins/fhir"
        record = posted(lhc_forms, path, own, api_key)
        level = triage_level(q, evaluate(q, answers, given).context)
        assert (name, record["result"]["triage"]["level"]) == (name, level)
