"""Each of the person's check-in pages is one database call (app/services/checkin_pages.py):
on PostgreSQL one hop to the thread pool per request, whatever the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.fixtures import TestClock
from tests.support.answers import checkin
from tests.support.db_calls import db_calls

from .helpers import csrf_of, form_fields, post_page, run_interview, self_care_answers
from .patient_pages import SEE_DOCTOR, stored_result
from .test_checkins import next_page


def one_call(runs: list[str], send: Callable[[], httpx.Response]) -> httpx.Response:
    """The response to ``send``, and the database calls it made: one, by name."""
    runs.clear()
    response = send()
    assert len(runs) == 1, (response.request.url, runs)
    return response


@pytest.mark.parametrize("lang", ["", "?lang=pl"])
def test_every_page_of_a_check_in_is_one_database_call(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    url, _ = run_interview(client, self_care_answers())
    action = f"{url}/checkin{lang}"
    with db_calls(monkeypatch) as runs:
        answers = checkin(pain_now=2, hip_bridge_feel="too_easy")

        page = one_call(runs, lambda: client.get(action))
        assert runs == ["open_checkin"]
        first = page
        sent = 0
        while page.status_code == 200:
            page = one_call(runs, partial(next_page, client, action, page.text, answers))
            assert runs == ["send_page"]
            sent += 1
        assert (page.status_code, sent) == (303, 11)  # every page, the last one storing
        done = page.headers["location"]

        shown = one_call(runs, lambda: client.get(f"{done}{lang}"))
        assert (shown.status_code, runs) == (200, ["show_checkin"])
        ics = one_call(runs, lambda: client.get(f"{url}/checkins.ics{lang}"))
        assert (ics.status_code, runs) == (200, ["get_by_result_token"])

        # Back, and a page with a problem.
        second = next_page(client, action, first.text, answers)
        back = one_call(runs, lambda: next_page(client, action, second.text, {}, go="back"))
        assert (back.status_code, runs) == (200, ["send_page"])
        wrong = one_call(runs, lambda: next_page(client, action, second.text, {}))
        assert (wrong.status_code, runs) == (422, ["send_page"])


def test_the_pages_that_say_no_are_one_database_call_too(
    client: TestClient,
    app: FastAPI,
    db: Session,
    clock: TestClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _ = run_interview(client, self_care_answers())
    doctor = stored_result(app, db, SEE_DOCTOR)
    for pain in (2, 3, 4):  # CHECKINS_PER_DAY: 3
        post_page(client, f"{url}/checkin", form_fields(checkin(pain_now=pain)))
        clock.advance(timedelta(hours=1))
    csrf = csrf_of(client.get(f"{url}/checkin").text)
    with db_calls(monkeypatch) as runs:
        fourth = form_fields(checkin(pain_now=5))
        refused = one_call(runs, lambda: post_page(client, f"{url}/checkin", fourth, csrf=csrf))
        assert (refused.status_code, runs) == (429, ["send_page"])
        not_yet = one_call(runs, lambda: client.get(f"{doctor}/checkin"))
        assert (not_yet.status_code, runs) == (200, ["open_checkin"])
        unknown = one_call(runs, lambda: client.get("/result/nope/checkin"))
        assert (unknown.status_code, runs) == (404, ["open_checkin"])
        elsewhere = one_call(runs, lambda: client.get(f"{url}/checkins/nope"))
        assert (elsewhere.status_code, runs) == (404, ["show_checkin"])
