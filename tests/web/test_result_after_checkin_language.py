"""The result page after a check-in, in Polish: the check-in's stored (English) result is
worked out again in the language, its advice and the plan it left too; where it cannot be, the
English texts are shown marked ``lang="en-GB"``, never passed off as Polish."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Checkin

from .patient_pages import SELF_CARE, checkin_walk, stored_result


def _checked_in(client: TestClient, app: FastAPI, db: Session) -> str:
    assert client.get("/?lang=pl").status_code == 200  # the cookie keeps it
    url = stored_result(app, db, SELF_CARE)
    *_, (done, html) = checkin_walk(client, url)
    assert "/checkins/" in done
    assert "Kontynuuj swój plan" in html  # the check-in's own page: in Polish already
    return url


def test_the_plan_a_check_in_left_is_shown_in_polish(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    url = _checked_in(client, app, db)
    html = client.get(url).text
    main = html.split("<main", 1)[1]
    assert "Plan poniżej obowiązuje od tej kontroli." in main
    assert ": kontynuuj swój plan. Plan poniżej" in main
    assert "Mostek biodrowy" in main
    assert "Hip bridge" not in main
    assert 'lang="en-GB"' not in main


def test_a_check_in_that_cannot_be_made_again_is_shown_in_english_and_marked(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    url = _checked_in(client, app, db)
    row = db.exec(select(Checkin)).one()
    # Made with a version of the check-in no longer loaded: not worked out again.
    row.result = {
        **row.result,
        "questionnaire": {**row.result["questionnaire"], "version": "0.0.1"},
    }
    db.add(row)
    db.commit()
    response = client.get(url)
    assert response.status_code == 200
    main = response.text.split("<main", 1)[1]
    # Its level in the line about it, and the plan it left: English texts, marked so.
    assert "kontrola z" in main
    assert '<span lang="en-GB">keep going with your plan</span>' in main
    # The plan the check-in left: its English texts, in passages marked English.
    assert '<ol class="list list--number plan-week__list" lang="en-GB">' in main
    assert "Hip bridge" in main
    assert '<div class="plan-blocks" lang="en-GB">' in main
    assert '<ul class="list list--bullet plan-advice" lang="en-GB">' in main
