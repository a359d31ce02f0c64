"""A clinic's intake links open in the language its admin chose, and a result in the one it was
made in, unless the person chose another (the switcher's link, its cookie): before the
browser's Accept-Language, which decides when there is none. The record keeps the language the
person used."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import i18n
from app.models import Assessment, Clinic
from tests.web.conftest import make_link
from tests.web.helpers import run_interview, self_care_answers

PSEUDO = i18n.PSEUDO_LANGUAGE


def page_language(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, html[:200]
    return found.group(1)


def set_language(db: Session, clinic: Clinic, code: str | None) -> None:
    clinic.intake_language = code
    db.add(clinic)
    db.commit()


def test_an_intake_link_opens_in_the_clinic_s_language_unless_the_person_chose(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    set_language(db, clinic, PSEUDO)
    prefix = f"/intake/{make_link(db, clinic.id)}"
    english_browser = {"Accept-Language": "en-GB,en;q=0.8"}

    assert page_language(client.get(prefix, headers=english_browser).text) == PSEUDO
    # The switcher's link, then its cookie, win over the clinic's choice.
    assert page_language(client.get(f"{prefix}?lang=en", headers=english_browser).text) == "en-GB"
    assert client.cookies.get("lang") == "en"
    assert page_language(client.get(prefix).text) == "en-GB"

    client.cookies.clear()
    run_interview(client, self_care_answers(), prefix=prefix)
    assert db.exec(select(Assessment)).one().language == PSEUDO


def test_without_a_clinic_language_the_browser_decides(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    prefix = f"/intake/{make_link(db, clinic.id)}"
    assert page_language(client.get(prefix, headers={"Accept-Language": PSEUDO}).text) == PSEUDO
    assert page_language(client.get(prefix).text) == "en-GB"


def test_a_clinic_language_no_longer_offered_is_passed_over(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    set_language(db, clinic, "tlh")  # offered once, perhaps; not by this app now
    prefix = f"/intake/{make_link(db, clinic.id)}"
    assert page_language(client.get(prefix).text) == "en-GB"


def test_the_open_form_and_results_do_not_take_a_clinic_s_language(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    set_language(db, clinic, PSEUDO)
    assert page_language(client.get("/").text) == "en-GB"


def test_a_result_opens_in_the_language_it_was_made_in_unless_the_person_chooses(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    client.cookies.set("lang", PSEUDO)
    result_url, _ = run_interview(client, self_care_answers())
    client.cookies.set("lang", "en")
    english_url, _ = run_interview(client, self_care_answers())
    with TestClient(app) as elsewhere:  # the e-mailed link on another device
        english_browser = {"Accept-Language": "en-GB"}
        assert page_language(elsewhere.get(result_url, headers=english_browser).text) == PSEUDO
        switched = elsewhere.get(f"{result_url}?lang=en", headers=english_browser).text
        assert page_language(switched) == "en-GB"
        assert page_language(elsewhere.get(result_url).text) == "en-GB"  # the choice is kept
    with TestClient(app) as fresh:
        # An English result (as every result from before languages is) leaves it to the browser.
        asked = fresh.get(english_url, headers={"Accept-Language": PSEUDO}).text
        assert page_language(asked) == PSEUDO
