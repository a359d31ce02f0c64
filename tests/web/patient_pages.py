"""Every kind of patient page, opened with the TestClient as a person reaches it: the start,
every question page of the audit (walked with several answer sets) and of the check-in, the
advice and check pages, a result at every level, a check-in result, the trust pages, the
pages of a result (keep, delete, correct) and the error pages. For the tests that look at all
of them at once (the pseudo-locale, the switcher)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Clinic
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO, checkin_answers, record_assessment
from tests.web.conftest import make_link

from .helpers import EMERGENCY_PAGE, FIRST_PAGE, csrf_of, form_fields, is_result, post_page

SELF_CARE = dict(EXAMPLE_ANSWERS)
SEE_DOCTOR = {**SAFETY_ALL_NO, "pregnant": True}
URGENT = {**SAFETY_ALL_NO, "fever": True}
EMERGENCY = {"age": 42, "saddle_numbness": True, "bladder_change": True, "bowel_change": False}
# The audit's branches: a spine operation (then a doctor's advice) and the rest of the
# habits pages; and a self-care person with a hip replacement and leg pain.
BRANCHES = {
    "spine_diagnosis": ["spine_surgery"],
    "pain_duration": "over_12_weeks",
    "age": 40,
    "recent_flare": False,
    "spine_procedure_recent": False,
    "inflammatory_features": ["none"],
    "knows_height_weight": False,
    "weight_self_rating": "healthy",
    "plays_sports": True,
    "lifts_weights": True,
    "one_sided_sport": True,
    "loaded_squats": False,
}
HIP_AND_LEG = {
    "joint_problems": ["hip"],
    "hip_replacement": "over_12_weeks",
    "hip_precautions": False,
    "leg_pain": "above_knee",
    "leg_pain_worse_than_back": False,
    "pain_duration": "over_12_weeks",
    "age": 50,
    "began_before_45": False,
    "recent_flare": False,
}
# Answer sets that between them reach every page of the audit (each walked to its end).
WALKS = {
    "self-care": SELF_CARE,
    "branches": {**SELF_CARE, **BRANCHES},
    "hip and leg": {**SELF_CARE, **HIP_AND_LEG},
    "urgent": {**SELF_CARE, **URGENT},
    "see-doctor": {**SELF_CARE, **SEE_DOCTOR},
}


def walk(
    client: TestClient, answers: dict[str, Any], prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """(url, html) of each page of an interview, continuing past advice pages, to the result."""
    location = f"{prefix}/questions/{FIRST_PAGE}"
    for _ in range(60):
        page = client.get(location)
        assert page.status_code == 200, (location, page.status_code)
        yield location, page.text
        if is_result(location.split("?")[0]):
            return
        if "/advice" in location:
            found = re.search(r'class="button button--secondary" href="([^"]+)"', page.text)
            assert found, location
            location = found.group(1).replace("&amp;", "&")
            continue
        fields = {} if location.endswith("/check") else form_fields(answers)
        sent = client.post(
            location, data={**fields, "csrf_token": csrf_of(page.text)}, follow_redirects=False
        )
        assert sent.status_code == 303, (location, sent.status_code)
        location = sent.headers["location"]
    raise AssertionError("the interview did not end")


def checkin_walk(client: TestClient, result_url: str) -> Iterator[tuple[str, str]]:
    """Each page of a check-in, then its result."""
    url = f"{result_url}/checkin"
    page = client.get(url)
    assert page.status_code == 200
    answers = form_fields(checkin_answers())
    for _ in range(20):
        yield url, page.text
        current = re.search(r'name="page" value="([^"]+)"', page.text)
        assert current
        sent = client.post(
            url,
            data={**answers, "page": current.group(1), "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        if sent.status_code == 303:
            done = sent.headers["location"]
            yield done, client.get(done).text
            return
        assert sent.status_code == 200, sent.status_code
        page = sent
    raise AssertionError("the check-in did not end")


def stored_result(app: FastAPI, db: Session, answers: dict[str, Any]) -> str:
    q = app.state.registry.default
    token = record_assessment(db, q, answers, channel="web", allow_incomplete=True).result_token
    db.commit()
    return f"/result/{token}"


def every_page(client: TestClient, app: FastAPI, db: Session) -> Iterator[tuple[str, str]]:
    """(what, html) for every kind of patient page."""
    yield "start", client.get("/").text
    seen: set[str] = set()
    for name, answers in WALKS.items():
        client.cookies.delete("ba_draft")
        for url, html in walk(client, answers):
            page = url.split("?")[0]
            if page not in seen:
                seen.add(page)
                yield f"{name} {url}", html
    # The emergency stop: its advice page, straight after the sign.
    client.cookies.delete("ba_draft")
    post_page(client, f"/questions/{FIRST_PAGE}", form_fields({"age": 42}))
    sent = post_page(client, f"/questions/{EMERGENCY_PAGE}", form_fields(EMERGENCY))
    yield "emergency advice", client.get(sent.headers["location"]).text
    client.cookies.delete("ba_draft")
    # An error summary on a question page.
    post_page(client, f"/questions/{FIRST_PAGE}", form_fields({"age": 42}))
    yield "errors", post_page(client, f"/questions/{EMERGENCY_PAGE}", {}).text
    for level, answers in (
        ("self-care", SELF_CARE),
        ("see-doctor", SEE_DOCTOR),
        ("urgent", URGENT),
        ("emergency", EMERGENCY),
    ):
        url = stored_result(app, db, answers)
        yield f"result {level}", client.get(url).text
        if level == "self-care":
            yield "keep", client.get(f"{url}/keep").text
            yield "delete", client.get(f"{url}/delete").text
            yield from checkin_walk(client, url)
            yield "result after a check-in", client.get(url).text
        if level == "emergency":
            yield "correct", client.get(f"{url}/mistake").text
    for trust in ("about", "privacy", "cookies", "accessibility", "contact"):
        yield trust, client.get(f"/{trust}").text
    yield "not found", client.get("/no-such-page").text
    expired: httpx.Response = client.post(f"/questions/{FIRST_PAGE}", data={"age": "42"})
    yield "form expired", expired.text
    clinic = Clinic(name="Riverside Physio", phone="+44 1632 960001")
    db.add(clinic)
    db.commit()
    token = make_link(db, clinic.id)
    yield "intake start", client.get(f"/intake/{token}").text
    client.cookies.delete("ba_draft")
    for url, html in walk(client, SELF_CARE, prefix=f"/intake/{token}"):
        if is_result(url.split("?")[0]) or url.endswith("/check"):
            yield f"intake {url}", html
    yield "link gone", client.get(f"/intake/{token}").text
