"""A clinic's intake links open in the language its admin chose, unless the person chose
another (the switcher's link, its cookie): before the browser's Accept-Language, which decides
when the clinic chose none. The record keeps the language the person used."""

from __future__ import annotations

import re

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
