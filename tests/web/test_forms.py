"""Reading form fields: validation messages, the error summary, and imperial units."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.engine import Questionnaire
from app.models import Draft
from app.services.questionnaires import DEFAULT_QUESTIONNAIRE, Registry
from app.units import to_imperial
from app.web.forms import read_page
from tests.web.helpers import (
    EMERGENCY_PAGE,
    FIRST_PAGE,
    answer,
    post_page,
    run_interview,
    self_care_answers,
)


@pytest.fixture
def questionnaire(settings) -> Questionnaire:  # type: ignore[no-untyped-def]
    return Registry.load(settings.questionnaires_dir, DEFAULT_QUESTIONNAIRE).default


def questions(q: Questionnaire, *ids: str) -> list:  # type: ignore[type-arg]
    return [q.question_by_id[i] for i in ids]


def test_a_page_with_missing_answers_comes_back_with_an_error_summary(
    client: TestClient, db: Session
) -> None:
    answer(client, "", FIRST_PAGE, {"age": 42})
    [draft] = db.exec(select(Draft)).all()
    response = post_page(client, f"/questions/{EMERGENCY_PAGE}", {"saddle_numbness": "no"})

    assert response.status_code == 400
    assert "<title>Error: Signs to check first" in response.text
    assert "There is a problem" in response.text
    links = re.findall(r'<li><a href="#([^"]+)">', response.text)
    assert links == [
        "bladder_change", "bowel_change", "sexual_function_change", "both_legs",
        "walking_difficulty", "chest_pain", "serious_accident",
    ]  # fmt: skip
    # Each link target exists, and the message is next to the field too.
    assert 'id="bladder_change" name="bladder_change"' in response.text
    assert 'id="bladder_change-error"' in response.text
    assert 'aria-describedby="bladder_change-hint bladder_change-error"' in response.text
    # The answer that was given is kept on the page, and nothing is stored.
    assert 'value="no" checked' in response.text
    db.refresh(draft)
    assert draft.answers == {"age": 42}


def test_a_number_out_of_range_names_the_range(client: TestClient) -> None:
    run_interview(client, self_care_answers(), until="about_you")
    response = post_page(client, "/questions/about_you", {"age": "130", "pregnant": "no"})
    assert response.status_code == 400
    assert "Enter a number from 0 to 120 years" in response.text
    assert 'value="130"' in response.text


def test_text_in_a_number_field_asks_for_a_whole_number(client: TestClient) -> None:
    run_interview(client, self_care_answers(), until="about_you")
    response = post_page(client, "/questions/about_you", {"age": "forty", "pregnant": "no"})
    assert "Enter a whole number, like 12" in response.text


def test_none_of_these_cannot_be_combined(questionnaire: Questionnaire) -> None:
    page = read_page(
        questions(questionnaire, "spine_diagnosis"), {"spine_diagnosis": ["none", "disc_bulge"]}
    )
    assert [e.message for e in page.errors] == [
        "Select ‘None of these’ on its own, or untick it and choose others"
    ]


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"pain_intensity": "4"}, 4),
        ({"pain_intensity": "11"}, None),
        ({"pain_intensity": ""}, None),
    ],
)
def test_the_pain_scale_takes_0_to_10(
    questionnaire: Questionnaire, form: dict[str, str], expected: int | None
) -> None:
    page = read_page(questions(questionnaire, "pain_intensity"), {k: [v] for k, v in form.items()})
    assert page.answers.get("pain_intensity") == expected
    assert bool(page.errors) == (expected is None)


def test_minutes_may_be_written_with_a_thousands_comma(questionnaire: Questionnaire) -> None:
    page = read_page(
        questions(questionnaire, "activity_minutes_week"), {"activity_minutes_week": ["1,200"]}
    )
    assert page.answers == {"activity_minutes_week": 1200}


def test_a_decimal_comma_is_read_as_a_decimal_point(questionnaire: Questionnaire) -> None:
    page = read_page(
        questions(questionnaire, "height_cm", "weight_kg"),
        {"height_cm": ["180,5"], "weight_kg": ["72,25"]},
    )
    assert page.errors == []
    assert page.answers == {"height_cm": 180.5, "weight_kg": 72.25}


def test_a_weight_error_gives_a_weight_like_example(questionnaire: Questionnaire) -> None:
    page = read_page(questions(questionnaire, "weight_kg"), {"weight_kg": ["seventy"]})
    assert [e.message for e in page.errors] == ["Enter a number, like 68.5"]


def test_feet_inches_stones_and_pounds_are_converted_to_cm_and_kg(
    questionnaire: Questionnaire,
) -> None:
    form = {
        "height_cm-units": ["imperial"],
        "height_cm-feet": ["5"],
        "height_cm-inches": ["9"],
        "weight_kg-units": ["imperial"],
        "weight_kg-stones": ["12"],
        "weight_kg-pounds": ["13"],
    }
    page = read_page(questions(questionnaire, "height_cm", "weight_kg"), form)
    assert page.errors == []
    assert page.answers == {"height_cm": 175.3, "weight_kg": 82.1}


def test_inches_may_be_left_out(questionnaire: Questionnaire) -> None:
    form = {"height_cm-units": ["imperial"], "height_cm-feet": ["6"], "height_cm-inches": [""]}
    page = read_page(questions(questionnaire, "height_cm"), form)
    assert page.answers == {"height_cm": 182.9}


@pytest.mark.parametrize(
    ("fields", "target", "message"),
    [
        (
            {"height_cm-feet": "", "height_cm-inches": ""},
            "height_cm-feet",
            "Enter your height in feet and inches",
        ),
        (
            {"height_cm-feet": "5.5", "height_cm-inches": ""},
            "height_cm-feet",
            "Enter feet as a whole number, like 5",
        ),
        (
            {"height_cm-feet": "5", "height_cm-inches": "12"},
            "height_cm-inches",
            "Enter inches as a number from 0 to 11",
        ),
        (
            {"height_cm-feet": "9", "height_cm-inches": "0"},
            "height_cm-feet",
            "Enter your height from 3 feet 4 inches to 8 feet 2 inches",
        ),
    ],
)
def test_imperial_height_errors_say_what_to_fix(
    questionnaire: Questionnaire, fields: dict[str, str], target: str, message: str
) -> None:
    form = {"height_cm-units": ["imperial"], **{k: [v] for k, v in fields.items()}}
    page = read_page(questions(questionnaire, "height_cm"), form)
    assert [(e.target, e.message) for e in page.errors] == [(target, message)]


def test_imperial_weight_errors_say_what_to_fix(questionnaire: Questionnaire) -> None:
    form = {"weight_kg-units": ["imperial"], "weight_kg-stones": ["80"], "weight_kg-pounds": ["0"]}
    page = read_page(questions(questionnaire, "weight_kg"), form)
    assert [e.message for e in page.errors] == [
        "Enter your weight from 4 stone to 55 stone 1 pound"
    ]
    form = {"weight_kg-units": ["imperial"], "weight_kg-stones": ["10"], "weight_kg-pounds": ["14"]}
    page = read_page(questions(questionnaire, "weight_kg"), form)
    assert [e.message for e in page.errors] == ["Enter pounds as a number from 0 to 13"]


def test_cm_convert_back_to_feet_and_inches_for_the_form(questionnaire: Questionnaire) -> None:
    height = questionnaire.question_by_id["height_cm"]
    assert to_imperial(height, 175.3) == (5, 9.0)
    assert to_imperial(height, 182.8, whole=True) == (6, 0)


def test_the_height_page_switches_units_without_javascript(client: TestClient, db: Session) -> None:
    run_interview(client, self_care_answers(), until="height_weight")
    page = client.get("/questions/height_weight")
    assert (
        'href="/questions/height_weight?height_cm-units=imperial#height_cm-fieldset"' in page.text
    )

    imperial_page = client.get(
        "/questions/height_weight?height_cm-units=imperial&weight_kg-units=imperial"
    )
    assert 'name="height_cm-feet"' in imperial_page.text
    assert 'name="weight_kg-pounds"' in imperial_page.text
    response = post_page(
        client,
        "/questions/height_weight?height_cm-units=imperial&weight_kg-units=imperial",
        {
            "height_cm-units": "imperial",
            "height_cm-feet": "5",
            "height_cm-inches": "9",
            "weight_kg-units": "imperial",
            "weight_kg-stones": "12",
            "weight_kg-pounds": "13",
        },
    )
    assert response.status_code == 303
    db.expire_all()
    [draft] = db.exec(select(Draft)).all()
    assert (draft.answers["height_cm"], draft.answers["weight_kg"]) == (175.3, 82.1)
    # Shown again in the units asked for.
    again = client.get("/questions/height_weight?height_cm-units=imperial")
    assert (
        'name="height_cm-feet" type="text" inputmode="numeric" autocomplete="off" spellcheck="false" value="5"'
        in again.text
    )


def test_an_imperial_error_on_the_page_links_to_the_field(client: TestClient) -> None:
    run_interview(client, self_care_answers(), until="height_weight")
    response = post_page(
        client,
        "/questions/height_weight?height_cm-units=imperial",
        {
            "height_cm-units": "imperial",
            "height_cm-feet": "5",
            "height_cm-inches": "15",
            "weight_kg": "80",
        },
    )
    assert response.status_code == 400
    assert (
        '<a href="#height_cm-inches">Your height – Enter inches as a number from 0 to 11</a>'
        in response.text
    )
    assert 'id="height_cm-inches"' in response.text
    assert 'value="15"' in response.text


@pytest.mark.parametrize("typed", ["1e2", "٤٢", "４２", "1_0", "0x2a", "inf", "nan"])
def test_only_plain_digits_are_read_as_a_number(questionnaire: Questionnaire, typed: str) -> None:
    """float() reads these, and "1e2" would be stored as an age of 100."""
    page = read_page(questions(questionnaire, "age"), {"age": [typed]})
    assert "age" not in page.answers
    assert [e.question_id for e in page.errors] == ["age"]


@pytest.mark.parametrize(("typed", "read"), [("42", 42), (" 42 ", 42), ("72,5", 72.5)])
def test_plain_numbers_with_a_decimal_point_or_comma_still_read(
    questionnaire: Questionnaire, typed: str, read: float
) -> None:
    question = "age" if float(read).is_integer() else "weight_kg"
    page = read_page(questions(questionnaire, question), {question: [typed]})
    assert page.answers == {question: read}
