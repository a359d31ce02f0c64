"""The result page and its PDF read what they show in one database call each
(app/services/result_link.py): on PostgreSQL every call is a hop to the thread pool."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Assessment, Checkin
from app.services import assessments, checkin_history, checkins, result_link
from tests.fixtures import checkin_answers, count_decoded_results
from tests.support.db_calls import db_calls
from tests.web.test_result_page import SELF_CARE, stored_result

DAY = timedelta(days=1)


def with_checkins(app: FastAPI, db: Session, count: int) -> str:
    """A self-care result's path, with ``count`` check-ins a day apart."""
    url = stored_result(app, db, SELF_CARE)
    assessment = assessments.get_by_result_token(db, url.rsplit("/", 1)[1])
    assert assessment is not None
    for day in range(1, count + 1):
        answers, at = checkin_answers(pain_now=day % 3), assessment.created_at + day * DAY
        checkins.record_checkin(db, app.state.registry, assessment, answers, channel="web", now=at)
        db.commit()
    return url


@pytest.mark.parametrize("query", ["", "?kept=sent#keep-title", "?contact=given"])
def test_the_result_page_is_read_in_one_call(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    url = stored_result(app, db, SELF_CARE)
    with db_calls(monkeypatch) as called:
        assert client.get(url + query).status_code == 200
    assert called == ["open_page"]


def test_an_unknown_result_link_is_a_404_after_one_call(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db_calls(monkeypatch) as called:
        assert client.get("/result/" + "x" * 43).status_code == 404
    assert called == ["open_page"]


def test_a_kept_pdf_is_read_in_two_calls_the_result_and_the_kept_document(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its key is worked out from the page's HTML, which needs the result first."""
    url = stored_result(app, db, SELF_CARE)
    first = client.get(url + "/pdf")
    if first.status_code == 503:
        pytest.skip("no PDF renderer here")
    with db_calls(monkeypatch) as called:
        again = client.get(url + "/pdf")
    assert again.content == first.content
    assert called == ["open_record", "stored"]


def test_the_result_page_in_english_decodes_only_the_newest_check_in_result(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its list and trend need the check-ins' times and answers; of their stored results
    (~27 kB each, mostly the plan's texts) it shows the newest's alone, so a long programme's
    page does not grow dearer with each one. (In another language each is worked out again
    and compared with its stored result: tests/web/test_result_after_checkin_language.py.)"""
    url = with_checkins(app, db, 5)
    decoded = count_decoded_results(monkeypatch)
    html = client.get(url).text
    assert html.count(f"{url}/checkins/") >= 5  # every check-in listed
    assert len(decoded) == 2  # the result's own, and the newest check-in's


def test_a_result_deleted_just_after_its_check_ins_were_read_still_shows_what_was_read(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest check-in's result comes in the same statement as the list: if the person's
    deletion of the result (with its check-ins) lands just after it, the page shows what was
    read, as it would have a moment before, instead of failing on a second read."""
    url = with_checkins(app, db, 1)
    listed = checkin_history.checkins_so_far

    def deleted_once_listed(session: Session, assessment_id: uuid.UUID) -> list[Checkin]:
        found = listed(session, assessment_id)
        with Session(app.state.engine) as other:
            assessments.delete_assessment(other, other.get_one(Assessment, assessment_id))
            other.commit()
        return found

    monkeypatch.setattr(checkin_history, "checkins_so_far", deleted_once_listed)
    assert client.get(url).status_code == 200


def test_the_result_page_in_another_language_reads_every_check_in_result_in_its_call(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In Polish each check-in's result is worked out again and checked against its stored
    one, so the page's one call reads them all: none is left to be read later, outside it."""
    url = with_checkins(app, db, 3)
    assert client.get("/?lang=pl").status_code == 200  # the cookie keeps it
    decoded = count_decoded_results(monkeypatch)
    in_the_call: list[int] = []
    opened = result_link.open_page

    def open_page(*args: Any, **kwargs: Any) -> result_link.ResultPage | None:
        page = opened(*args, **kwargs)
        in_the_call.append(len(decoded))
        return page

    monkeypatch.setattr(result_link, "open_page", open_page)
    html = client.get(url).text
    assert "Twój wynik" in html  # in Polish
    assert in_the_call == [4] == [len(decoded)]  # the result's own and its three check-ins'


def test_a_check_in_page_in_english_decodes_only_the_results_it_reads(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier check-in's page shows its own stored result: the others' are not decoded
    (checkin_history.checkins_shown), however many the programme has."""
    url = with_checkins(app, db, 5)
    assessment = assessments.get_by_result_token(db, url.rsplit("/", 1)[1])
    assert assessment is not None
    first = checkin_history.list_checkins(db, assessment.id)[0]
    decoded = count_decoded_results(monkeypatch)
    page = client.get(f"{url}/checkins/{first.id}")
    assert page.status_code == 200
    # The result's own, the newest check-in's (loaded with the list) and this one's: not all 5.
    assert len(decoded) == 3
