"""Each staff page and action is one database call, a use case in app/services (on PostgreSQL
every call is a hop to the thread pool), besides the one every staff page's dependency makes
first: the sign-in check (require_signed_in: staff_sessions.signed_in; its last-seen write,
at most once a minute, is not due in these tests). The commit or roll-back at the end of every
request is not counted (tests/support/db_calls.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session

from app.models import Clinic
from tests.staff.conftest import SignedInClient, csrf
from tests.staff.test_checkins import check_in
from tests.staff.test_dashboard import submit
from tests.staff.test_release import SEE_DOCTOR
from tests.staff.test_release import submit as submit_answers
from tests.support.db_calls import db_calls

SIGN_IN = "signed_in"  # require_signed_in, shared by every staff page


def calls_of(monkeypatch: pytest.MonkeyPatch, request: Callable[[], Any]) -> list[str]:
    with db_calls(monkeypatch) as called:
        request()
    return called


def test_the_queue_and_a_submission_s_pages_and_actions_are_one_call_each(
    app: FastAPI,
    db: Session,
    clinic: Clinic,
    signed_in: SignedInClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assessment = submit(db, clinic, days_ago=10)
    check_in(app, db, assessment, fever=True)  # flags the submission: the queue reads its flag
    doctor, _ = submit_answers(app, db, clinic, SEE_DOCTOR)
    browser = signed_in(clinic)
    token = csrf(browser)
    page = f"/staff/assessments/{assessment.id}"

    def get(url: str) -> Callable[[], Any]:
        return lambda: ok(browser.get(url, follow_redirects=False))

    def post(url: str, **form: str) -> Callable[[], Any]:
        data = {"csrf_token": token, **form}
        return lambda: ok(browser.post(url, data=data, follow_redirects=False))

    requests = {
        "open_queue": get("/staff/"),
        "open_queue, filtered": get("/staff/?level=urgent&reviewed=no"),
        "open_submission": get(page),
        "open_submission, as the person saw it": get(page + "?as_seen=yes"),
        "review": post(page + "/review", reviewed="yes"),
        "review, undone": post(page + "/review", reviewed="no"),
        "release_programme": post(f"/staff/assessments/{doctor.id}/release", confirm="yes"),
        "export_fhir": get(page + "/fhir"),
        "export_submissions": get("/staff/export.csv"),
        "export_checkins": get("/staff/export-checkins.csv"),
        "list_links": get("/staff/links"),
    }
    called = {what: calls_of(monkeypatch, request) for what, request in requests.items()}
    assert called == {what: [SIGN_IN, what.split(",")[0]] for what in requests}
    # A page with no data of its own: only the sign-in.
    assert calls_of(monkeypatch, get("/staff/links/new")) == [SIGN_IN]


def test_a_submission_not_found_is_one_call_too(
    db: Session,
    clinic: Clinic,
    other_clinic: Clinic,
    signed_in: SignedInClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    theirs = submit(db, other_clinic)
    browser = signed_in(clinic)
    review = {"csrf_token": csrf(browser), "reviewed": "yes"}
    page = f"/staff/assessments/{theirs.id}"
    opened = calls_of(monkeypatch, lambda: not_found(browser.get(page)))
    reviewed = calls_of(monkeypatch, lambda: not_found(browser.post(page + "/review", data=review)))
    assert (opened, reviewed) == ([SIGN_IN, "open_submission"], [SIGN_IN, "review"])


def test_an_admin_s_pages_are_one_call_each(
    clinic: Clinic, signed_in: SignedInClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = signed_in(clinic, "admin")
    pages = {
        "/staff/members": "members",
        "/staff/audit": "audit_log",
        "/staff/api-keys": "list_clinic_api_keys",
        "/staff/alerts": "recent_alerts",
    }
    called = {url: calls_of(monkeypatch, partial(browser.get, url)) for url in pages}
    assert called == {url: [SIGN_IN, use_case] for url, use_case in pages.items()}


def ok(response: Any) -> Any:
    assert response.status_code in (200, 303), response.text
    return response


def not_found(response: Any) -> Any:
    assert response.status_code == 404, response.text
    return response
