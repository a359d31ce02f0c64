"""The result page and its PDF read what they show in one database call each
(app/services/result_link.py): on PostgreSQL every call is a hop to the thread pool."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services import assessments, checkins
from tests.fixtures import checkin_answers, count_decoded_results
from tests.support.db_calls import db_calls
from tests.web.test_result_page import SELF_CARE, stored_result


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
    url = stored_result(app, db, SELF_CARE)
    assessment = assessments.get_by_result_token(db, url.rsplit("/", 1)[1])
    assert assessment is not None
    for day in range(1, 6):
        checkins.record_checkin(
            db, app.state.registry, assessment, checkin_answers(pain_now=day % 3),
            channel="web", now=assessment.created_at + timedelta(days=day),
        )  # fmt: skip
        db.commit()
    decoded = count_decoded_results(monkeypatch)
    html = client.get(url).text
    assert html.count(f"{url}/checkins/") >= 5  # every check-in listed
    assert len(decoded) == 2  # the result's own, and the newest check-in's
