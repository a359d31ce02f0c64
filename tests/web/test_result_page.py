"""The result page leads with what to do: the call to make now (emergency, urgent), the plan
this week (self-care); and the result can be kept: a link to copy, a PDF, a printout."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from pypdf import PdfReader
from sqlmodel import Session

from app import display
from app.assets import STATIC_DIR
from app.config import HelpLines, Settings
from app.main import create_app
from app.services import pdf
from app.services.questionnaires import Registry
from tests.fixtures import (
    EXAMPLE_ANSWERS,
    SAFETY_ALL_NO,
    V2_ANSWERS,
    record_assessment,
    record_v1_assessment,
)
from tests.support.settings import settings_with

EMERGENCY = {"age": 42, "saddle_numbness": True, "bladder_change": False, "bowel_change": False}
URGENT = {**SAFETY_ALL_NO, "fever": True}
SEE_DOCTOR = {**SAFETY_ALL_NO, "pregnant": True}
SELF_CARE = dict(EXAMPLE_ANSWERS)


def stored_result(app: FastAPI, db: Session, answers: dict[str, Any]) -> str:
    """A stored assessment's private result path."""
    q = app.state.registry.default
    token = record_assessment(db, q, answers, channel="web", allow_incomplete=True).result_token
    db.commit()
    return f"/result/{token}"


def main_of(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


# -- Emergency and urgent: the call first ---------------------------------------------------------


def test_an_emergency_result_leads_with_a_button_that_calls_999(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    html = main_of(client.get(stored_result(app, db, EMERGENCY)).text)

    call = re.search(r'<a class="call-button[^"]*" href="tel:999">', html)
    assert call is not None
    assert "Call 999</span></a>" in html
    # The action comes before the reasons, and nothing to do online for an emergency.
    assert call.start() < html.index("What to do now") < html.index("Why we say this")
    assert "111.nhs.uk" not in html
    assert "tel:111" not in html


def test_an_urgent_result_leads_with_111_by_phone_and_online(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    html = main_of(client.get(stored_result(app, db, URGENT)).text)

    call = re.search(r'<a class="call-button[^"]*" href="tel:111">', html)
    assert call is not None
    assert "Call NHS 111</span></a>" in html
    online = html.index('<a href="https://111.nhs.uk">NHS 111 online</a>')
    assert call.start() < online < html.index("Why we say this")
    assert "tel:999" not in html
    # Waiting for an appointment is not the advice, but calling when it gets worse is.
    assert "call NHS 111 or your GP surgery straight away" in html


@pytest.mark.parametrize("answers", [SEE_DOCTOR, SELF_CARE], ids=["see_doctor", "self_care"])
def test_results_that_need_no_call_now_have_no_call_button(
    app: FastAPI, client: TestClient, db: Session, answers: dict[str, Any]
) -> None:
    html = main_of(client.get(stored_result(app, db, answers)).text)
    assert "call-button" not in html
    assert 'href="tel:' not in html


def test_another_countrys_numbers_come_from_the_settings(settings: Settings, db: Session) -> None:
    elsewhere = settings_with(
        settings,
        help_lines={
            "emergency_number": "112",
            "emergency_name": "112",
            "urgent_number": "116117",
            "urgent_name": "the 116117 helpline",
            "urgent_online_url": "",
        },
    )
    app = create_app(elsewhere)
    try:
        with TestClient(app) as client:
            emergency = main_of(client.get(stored_result(app, db, EMERGENCY)).text)
            urgent = main_of(client.get(stored_result(app, db, URGENT)).text)
    finally:
        app.state.engine.dispose()

    assert 'href="tel:112"' in emergency
    assert "Call 112</span>" in emergency
    assert "Call 112, or go to the nearest emergency department" in emergency
    assert "tel:999" not in emergency
    assert "Call 999," not in emergency
    assert 'href="tel:116117"' in urgent
    assert "Call the 116117 helpline</span>" in urgent
    assert "call-now__online" not in urgent  # no online service set: no link


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"emergency_number": "112"}, "EMERGENCY_NAME must show the number it calls"),
        ({"urgent_name": "the helpline"}, "URGENT_NAME must show the number it calls"),
        ({"emergency_number": "99-9", "emergency_name": "99-9"}, "is not a phone number"),
        ({"urgent_online_url": "http://111.nhs.uk"}, "URGENT_ONLINE_URL must start with https"),
        ({"urgent_online_url": "javascript:alert(1)"}, "URGENT_ONLINE_URL must start with https"),
    ],
)
def test_numbers_and_names_that_disagree_stop_the_app_at_start(
    changes: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        HelpLines.model_validate(changes)


# -- Self-care: the week's plan first -------------------------------------------------------------


def test_a_self_care_result_sums_up_the_week_before_the_plan(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    html = main_of(client.get(stored_result(app, db, SELF_CARE)).text)

    week = html[html.index('id="this-week"') : html.index('id="plan"')]
    items = re.findall(r"<li>(.*?)</li>", week, re.S)
    assert [re.sub(r"<[^>]+>", "", item) for item in items] == [
        "Pelvic tilts: Lying pelvic tilt, 1–3 sets of 8–12 slow tilts, every day.",
        "Hip bridge: Single-leg bridge, 1–3 sets of 8–12 slow lifts, every day (on each side"
        " for one-leg bridges).",
        # (2.1) A dose in sentences of its own follows the step after a full stop.
        "Upper back and side stretch: Full hang. Seated bends and turns: 1–3 sets of 8–12 slow"
        " moves each way. Hangs: 1–3 hangs of 10–30 seconds. Every day.",
    ]
    assert 'href="#exercise-pelvic_tilts"' in week
    assert 'href="#help"' in week
    # Each exercise: what to start with and how much in view, how to do it folded away.
    plan = html[html.index('id="plan"') :]
    assert "Start with step 1 of 3: Lying pelvic tilt" in plan
    assert re.search(r'<details class="more exercise__more">\s*<summary', plan)
    assert re.search(r'<details class="more optional-blocks">\s*<summary', plan)
    assert "2 extra exercises, if you have time" in plan


def test_a_2_0_0_result_sums_up_the_week_with_its_own_doses(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    old = app.state.registry.exact("low-back-audit", "2.0.0")
    full = record_assessment(db, old, V2_ANSWERS, channel="web")
    no_hangs = record_assessment(
        db, old, {**V2_ANSWERS, "joint_problems": ["shoulder"]}, channel="web"
    )
    db.commit()
    html = main_of(client.get(f"/result/{full.result_token}").text)
    week = html[html.index('id="this-week"') : html.index('id="plan"')]
    assert "Upper back and side stretch</a>: Full hang, 1–3 hangs of 10–30 seconds, every day." in (
        week
    )
    assert "Start with step 2 of 4" in html  # 2.0.0's hangs: the full hang
    html = main_of(client.get(f"/result/{no_hangs.result_token}").text)
    week = html[html.index('id="this-week"') : html.index('id="plan"')]
    # The hangs' dose is for hangs: the stretch that replaced them is listed without it.
    assert "Upper back and side stretch</a>: Side stretch at a door frame.</li>" in week


def test_a_plan_with_no_hangs_starts_that_block_with_a_seated_step(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    html = main_of(
        client.get(stored_result(app, db, {**SELF_CARE, "joint_problems": ["shoulder"]})).text
    )
    week = html[html.index('id="this-week"') : html.index('id="plan"')]
    # (2.1) A shoulder problem leaves out the hangs and the side stretch; the block starts at
    # the nearest easier step that suits, a seated one, and is never dropped.
    assert "Upper back and side stretch</a>: Seated twist. Seated bends and turns:" in week
    assert "Side stretch at a door frame" not in html


def test_the_contributor_chart_leaves_room_for_its_zero() -> None:
    chart = display.contributor_chart(
        [{"code": "sitting", "score": 3, "label": "Sitting", "why": "", "advice": ""}]
    )
    assert chart is not None
    zero = dict(chart.ticks)[0]
    # The label is centred on its line: half a 12px digit must fit left of it.
    assert zero >= 6
    assert chart.left == zero
    assert dict(chart.ticks)[3] + 14 <= chart.width  # and the bar's score on the right


def test_an_old_result_shows_the_week_and_its_answers_with_its_own_questions(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    registry: Registry = app.state.registry
    recorded = record_v1_assessment(db, registry, channel="web")
    db.commit()

    html = main_of(client.get(f"/result/{recorded.result_token}").text)

    week = html[html.index('id="this-week"') : html.index('id="plan"')]
    assert "Hip bridge</a>: Single-leg bridge" in week  # its start step stored as a code
    answers = html[html.index('id="answers"') :]
    # 1.0.0 asked about a serious injury as a yes/no question; 2.0.0 no longer has that id.
    v1 = registry.exact("low-back-audit", "1.0.0")
    trauma = next(q for p in v1.pages for q in p.questions if q.id == "major_trauma")
    assert f"<dt>{trauma.text}</dt><dd>No</dd>" in answers.replace("&#39;", "'")


def test_a_pregnant_persons_page_leaves_out_body_weight_and_the_record_keeps_its_score(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    q = app.state.registry.default
    heavier = {**SELF_CARE, "weight_kg": 120}
    assert "Body weight" in main_of(client.get(stored_result(app, db, heavier)).text)

    recorded = record_assessment(db, q, {**heavier, "pregnant": True}, channel="web")
    db.commit()
    html = main_of(client.get(f"/result/{recorded.result_token}").text)

    # Weight gain is expected in pregnancy: no advice to lose weight. Staff, the export and
    # FHIR still have the score.
    assert "Body weight" not in html
    assert "Sitting" in html
    assert "weight" in [c["code"] for c in recorded.result["contributors"]]


# -- Keeping the result ---------------------------------------------------------------------------


def test_the_result_shows_its_link_to_copy_from_the_public_address(
    app: FastAPI, client: TestClient, db: Session, settings: Settings
) -> None:
    path = stored_result(app, db, SELF_CARE)
    html = client.get(path).text

    assert re.search(
        rf'<input class="input copy-link__input" id="result-link" type="text" readonly'
        rf' value="{re.escape(settings.public_url + path)}"',
        html,
    )
    # The button needs script, so it is hidden until the script shows it.
    assert re.search(r'<button type="button" [^>]*data-copy="result-link" hidden>', html)
    assert f'href="{path}/pdf"' in html


def test_the_answers_for_a_doctor_are_on_the_page_by_section(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    html = main_of(client.get(stored_result(app, db, SELF_CARE)).text)
    answers = html[html.index('id="answers"') :]

    assert "<dt>How old are you?</dt><dd>42 years</dd>" in answers
    assert "<dt>Your height</dt><dd>175 cm (5 ft 9 in)</dd>" in answers
    sections = re.findall(r'class="heading-s answers__group-title"[^>]*>([^<]+)<', answers)
    assert sections[0] == "Safety check"
    assert len(sections) >= 3


def pdf_text(document: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(document)).pages]


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.database_agnostic  # what the PDF says: the same from either database
@pytest.mark.usefixtures("pdfs")
def test_the_result_downloads_as_a_pdf_with_the_date_level_plan_and_answers(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    path = stored_result(app, db, SELF_CARE)
    created = client.get(path).text
    made_on = re.search(r"Your result from (\d+ \w+ \d{4})", created)
    assert made_on is not None

    response = client.get(f"{path}/pdf")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert re.fullmatch(
        r'attachment; filename="back-pain-result-\d{4}-\d{2}-\d{2}\.pdf"',
        response.headers["content-disposition"],
    )
    assert response.content.startswith(b"%PDF")
    pages = pdf_text(response.content)
    first = words(pages[0])
    assert f"Your result from {made_on.group(1)}" in first
    assert "You can start the programme" in first
    assert "Start with step 1 of 3: Lying pelvic tilt" in first
    assert "Lie on your back with your knees bent" in first  # "how to do it", open
    # The answers for a doctor: a page of their own, the last one.
    last = words(pages[-1])
    assert "Your answers, for your doctor" in last
    assert "How old are you? 42 years" in last
    assert all("Your answers, for your doctor" not in words(p) for p in pages[:-1])
    # Laid out by the print stylesheet: no buttons, no link box.
    everything = words(" ".join(pages))
    assert "Keep this result" not in everything
    assert "Download a PDF" not in everything
    # Made once, in a worker process, and kept: asking again does not make it again.
    again = client.get(f"{path}/pdf")
    assert again.status_code == 200
    assert again.content == response.content
    assert app.state.pdf_renderer.rendered == 1


@pytest.mark.database_agnostic  # what the PDF says: the same from either database
@pytest.mark.usefixtures("pdfs")
def test_an_emergency_pdf_holds_the_call_the_reasons_and_the_answers(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    response = client.get(f"{stored_result(app, db, EMERGENCY)}/pdf")

    assert response.status_code == 200
    text = words(" ".join(pdf_text(response.content)))
    assert "Get medical help now" in text
    assert "Call 999" in text
    assert "Why we say this" in text
    assert "Numbness or a changed feeling between your legs" in text
    assert "Your answers, for your doctor" in text


@pytest.mark.database_agnostic  # what the PDF says: the same from either database
@pytest.mark.usefixtures("pdfs")
def test_an_old_result_downloads_as_a_pdf(app: FastAPI, client: TestClient, db: Session) -> None:
    recorded = record_v1_assessment(db, app.state.registry, channel="web")
    db.commit()
    response = client.get(f"/result/{recorded.result_token}/pdf")
    assert response.status_code == 200
    assert "You can start the programme" in words(pdf_text(response.content)[0])


def test_an_unknown_result_has_no_pdf(client: TestClient) -> None:
    response = client.get("/result/not-a-real-token/pdf")
    assert response.status_code == 404


@pytest.fixture
def without_weasyprint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As on a machine where WeasyPrint cannot load: importing it fails as it does without
    Pango (OSError), here and in the PDF worker processes (which start with this sys.path)."""
    (tmp_path / "weasyprint.py").write_text(
        "raise OSError(\"cannot load library 'libpango-1.0-0'\")\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "weasyprint", raising=False)
    monkeypatch.setattr(pdf, "_loaded", {})


@pytest.mark.usefixtures("without_weasyprint")
def test_without_the_pdf_library_the_pdf_link_explains_and_the_app_still_works(
    settings: Settings, db: Session
) -> None:
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            assert client.get("/").status_code == 200
            path = stored_result(app, db, SELF_CARE)
            assert client.get(path).status_code == 200
            response = client.get(f"{path}/pdf")
    finally:
        app.state.engine.dispose()

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "Sorry, we cannot make a PDF right now" in response.text
    assert "Save as PDF" in response.text
    assert f'href="{path}"' in response.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/css/site.css",
        "file:///etc/passwd",
        (STATIC_DIR / ".." / "config.py").as_uri(),
        (STATIC_DIR / "no-such-file.css").as_uri(),
        "data:text/css,body{}",
    ],
)
def test_a_pdf_reads_nothing_but_the_sites_static_files(url: str) -> None:
    assert pdf._static_file(url) is None


def test_a_pdf_reads_the_sites_stylesheet() -> None:
    found = pdf._static_file(pdf.static_file_url("css/site.css"))
    assert found == (STATIC_DIR / "css" / "site.css").resolve()


# -- The printout's rules ---------------------------------------------------------------------------


def print_rules() -> str:
    css = re.sub(r"/\*.*?\*/", "", (STATIC_DIR / "css" / "site.css").read_text(), flags=re.S)
    return css[css.index("@media print {") :]


@pytest.mark.parametrize(
    ("selector", "declaration"),
    [
        (".exercise", "break-inside: avoid"),
        (".safety-net", "break-inside: avoid"),
        (".outcome", "break-inside: avoid"),
        (".answers__list > div", "break-inside: avoid"),
        (".answers", "break-before: page"),
        ("details::details-content", "content-visibility: visible"),
    ],
)
def test_the_printout_keeps_cards_whole_and_prints_what_is_folded(
    selector: str, declaration: str
) -> None:
    rules = re.findall(r"\n  ([^{}]+)\{([^}]*)\}", print_rules())
    matching = [body for names, body in rules if selector in [n.strip() for n in names.split(",")]]
    assert any(declaration in body for body in matching), (selector, declaration)


@pytest.mark.usefixtures("pdfs")
def test_the_pdf_carries_the_result_link_and_its_qr_code(
    app: FastAPI, client: TestClient, db: Session, settings: Settings
) -> None:
    path = stored_result(app, db, SELF_CARE)
    document = client.get(f"{path}/pdf").content
    text = "".join(words(page) for page in pdf_text(document)).replace(" ", "")
    # The link, written out (a long word may be broken across lines), and the words of the QR
    # code beside it (the code itself is an inline SVG from segno, drawn as paths).
    assert (settings.public_url + path).replace(" ", "") in text
    assert "scanthiscodewithaphone'scamera" in text
