"""Check-ins under abuse (issue 23): a day's limit, the same check-in sent again, alerts once,
a paginated list, no echo of made-up ids, idempotency keys per API key, and clinic keys that
may only read unless granted ``checkins:write``."""

from __future__ import annotations

from datetime import datetime, timedelta
from ipaddress import IPv4Network
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Alert, Checkin, Clinic
from app.services import alert_history, alert_settings
from tests.fixtures import TestClock, checkin_answers

from .conftest import Key, make_clinic, make_key

CHECKINS_WRITE = "checkins:write"  # the scope, as a client names it


def stored(client: TestClient, key: Key, answers: dict[str, Any]) -> str:
    response = client.post("/api/v1/assessments", json={"answers": answers}, headers=key.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def at(response: Any) -> datetime:
    return datetime.fromisoformat(response.json()["created_at"].replace("Z", "+00:00"))


def count(db: Session, table: type[Checkin] | type[Alert]) -> int:
    db.expire_all()
    return len(db.exec(select(table)).all())


def alerting_clinic_key(db: Session) -> Key:
    """A key of a clinic that is alerted by e-mail and webhook, allowed to store check-ins."""
    clinic_id = make_clinic(db)
    clinic = db.get_one(Clinic, clinic_id)
    alert_settings.set_alert_email(db, clinic, "desk@riverside.example")
    alert_settings.set_webhook(
        db,
        clinic,
        "http://127.0.0.1:9/hook",
        allow_http=True,
        allowed_networks=[IPv4Network("127.0.0.0/8")],
    )
    db.commit()
    return make_key(db, "booking", clinic_id, scopes=(CHECKINS_WRITE,))


def test_past_the_days_limit_a_check_in_is_a_429_saying_when_the_next_is_possible(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    db: Session,
    clock: TestClock,
) -> None:
    url = f"/api/v1/assessments/{stored(client, api_key, complete_answers)}/checkins"
    posted = []
    for pain in (2, 3, 4):  # CHECKINS_PER_DAY, by default 3
        posted.append(
            client.post(
                url, json={"answers": checkin_answers(pain_now=pain)}, headers=api_key.headers
            )
        )
        assert posted[-1].status_code == 201, posted[-1].text
        clock.advance(timedelta(hours=2))
    refused = client.post(
        url, json={"answers": checkin_answers(pain_now=5)}, headers=api_key.headers
    )
    assert refused.status_code == 429
    next_at = at(posted[0]) + timedelta(days=1)
    # The first is a day old 18 hours from now (give or take the test's own running time).
    assert abs(int(refused.headers["Retry-After"]) - 18 * 3600) < 120
    body = refused.json()
    when = next_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert when in body["detail"]
    assert "3 check-ins in the last 24 hours" in body["detail"]
    assert body["problems"] == [
        {
            "field": "assessment_id",
            "code": "checkin_limit",
            "message": f"next check-in possible from {when}",
        },
    ]
    assert count(db, Checkin) == 3
    clock.advance(next_at - at(posted[2]) - timedelta(hours=2) + timedelta(seconds=1))
    later = client.post(url, json={"answers": checkin_answers(pain_now=5)}, headers=api_key.headers)
    assert later.status_code == 201, later.text


def test_ten_identical_urgent_check_ins_are_one_check_in_with_one_alert_per_way(
    client: TestClient, db: Session, complete_answers: dict[str, Any], clock: TestClock
) -> None:
    key = alerting_clinic_key(db)
    url = f"/api/v1/assessments/{stored(client, key, complete_answers)}/checkins"
    urgent = {"answers": checkin_answers(fever=True)}
    first = client.post(url, json=urgent, headers=key.headers)
    assert first.status_code == 201, first.text
    for _ in range(9):
        again = client.post(url, json=urgent, headers=key.headers)
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["Idempotency-Replayed"] == "true"
    assert count(db, Checkin) == 1
    assert count(db, Alert) == 2  # an e-mail and a webhook (before: 10 check-ins, 20 alerts)
    # After CHECKIN_DUPLICATE_MINUTES (10) the same answers are a new check-in; the alerts
    # still waiting cover it.
    clock.advance(timedelta(minutes=11))
    later = client.post(url, json=urgent, headers=key.headers)
    assert later.status_code == 201
    assert later.json()["id"] != first.json()["id"]
    assert (count(db, Checkin), count(db, Alert)) == (2, 2)


def test_an_emergency_check_in_raises_the_waiting_alert_to_its_level(
    db: Session, client: TestClient, complete_answers: dict[str, Any]
) -> None:
    # ``db`` first, so it is emptied last: after the client has stopped the app's alert
    # sender, which may be writing an attempt at the webhook meanwhile.
    key = alerting_clinic_key(db)
    url = f"/api/v1/assessments/{stored(client, key, complete_answers)}/checkins"
    client.post(url, json={"answers": checkin_answers(fever=True)}, headers=key.headers)
    worse = client.post(
        url, json={"answers": checkin_answers(saddle_numbness=True)}, headers=key.headers
    )
    assert worse.json()["result"]["triage"]["level"] == "emergency"
    clinic_id = key.clinic_id
    assert clinic_id is not None
    # Raised, if no sender had tried it yet; else one more of each (tests/services/
    # test_alerts.py has both, without a sender racing): never left at "urgent" alone.
    lines = alert_history.recent_alerts(db, clinic_id=clinic_id)
    emergency = {line.alert.kind for line in lines if line.level == "emergency"}
    assert emergency == {"email", "webhook"}
    assert len(lines) <= 4


def test_the_list_is_paginated_with_a_link_to_the_next_page(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    clock: TestClock,
) -> None:
    url = f"/api/v1/assessments/{stored(client, api_key, complete_answers)}/checkins"
    ids = []
    for n in range(23):
        clock.advance(timedelta(hours=9))  # under the day's limit
        posted = client.post(
            url, json={"answers": checkin_answers(pain_now=n % 10)}, headers=api_key.headers
        )
        assert posted.status_code == 201, posted.text
        ids.append(posted.json()["id"])
    first = client.get(url, headers=api_key.headers)
    body = first.json()
    assert [c["id"] for c in body["checkins"]] == ids[:20]  # 20 by default, oldest first
    assert body["total"] == 23
    assert body["next_due"] is None  # three done: none due
    assert body["next"] == f"{url}?offset=20&limit=20"
    assert first.headers["Link"] == f'<{body["next"]}>; rel="next"'
    second = client.get(body["next"], headers=api_key.headers).json()
    assert [c["id"] for c in second["checkins"]] == ids[20:]
    assert second["next"] is None
    small = client.get(f"{url}?limit=5&offset=5", headers=api_key.headers).json()
    assert [c["id"] for c in small["checkins"]] == ids[5:10]
    # A page is bounded: at most 25 (each carries its plan), so under a megabyte.
    biggest = client.get(f"{url}?limit=25", headers=api_key.headers)
    assert len(biggest.json()["checkins"]) == 23
    assert len(biggest.content) < 1_000_000
    for bad in ("limit=0", "limit=26", "offset=-1", "limit=ten"):
        refused = client.get(f"{url}?{bad}", headers=api_key.headers)
        assert refused.status_code == 422, bad
        assert refused.json()["problems"][0]["field"] == bad.split("=")[0]


def test_made_up_answer_ids_are_counted_not_echoed(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    url = f"/api/v1/assessments/{stored(client, api_key, complete_answers)}/checkins"
    made_up = {f"{'x' * 3000}{n}": True for n in range(2)}
    for path in (url, f"{url}/next"):
        # Fewer answers than questions (a check-in answers all 32), two of them made up.
        sent = {"answers": {**dict(list(checkin_answers().items())[:20]), **made_up}}
        response = client.post(path, json=sent, headers=api_key.headers)
        assert response.status_code == (422 if path == url else 200), response.text
        assert "xxxxxxxxxx" not in response.text
        problems = response.json()["problems"]
        [unknown] = [p for p in problems if p["code"] == "unknown_question"]
        assert unknown["field"] == "answers"
        assert unknown["message"].startswith("has 2 ids that are not questions")
        assert all("question" not in p or len(p["question"]) < 40 for p in problems)
        assert len(response.content) < 6_000 < len(response.request.content)
    # More answers than the check-in has questions: one problem, before the engine reads them.
    many = {"answers": {f"q{n}": n for n in range(200)}}
    refused = client.post(url, json=many, headers=api_key.headers)
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["code"] == "too_many"
    assert "q199" not in refused.text
    assert count(db, Checkin) == 0


def test_idempotency_keys_belong_to_the_api_key_that_sent_them(
    client: TestClient, db: Session, complete_answers: dict[str, Any]
) -> None:
    clinic_id = make_clinic(db)
    booking = make_key(db, "booking", clinic_id, scopes=(CHECKINS_WRITE,))
    portal = make_key(db, "portal", clinic_id, scopes=(CHECKINS_WRITE,))
    url = f"/api/v1/assessments/{stored(client, booking, complete_answers)}/checkins"
    same_key = {"Idempotency-Key": "checkin-1"}
    ours = client.post(
        url, json={"answers": checkin_answers(pain_now=2)}, headers={**booking.headers, **same_key}
    )
    theirs = client.post(
        url, json={"answers": checkin_answers(pain_now=6)}, headers={**portal.headers, **same_key}
    )
    # Before: a 409, telling the portal that another app had used its key.
    assert (ours.status_code, theirs.status_code) == (201, 201), theirs.text
    assert ours.json()["id"] != theirs.json()["id"]
    again = client.post(
        url, json={"answers": checkin_answers(pain_now=6)}, headers={**portal.headers, **same_key}
    )
    assert (again.status_code, again.json()["id"]) == (200, theirs.json()["id"])
    mine = client.post(
        url, json={"answers": checkin_answers(pain_now=2)}, headers={**booking.headers, **same_key}
    )
    assert (mine.status_code, mine.json()["id"]) == (200, ours.json()["id"])
    assert count(db, Checkin) == 2


def test_a_clinic_key_stores_check_ins_only_with_the_checkins_write_scope(
    client: TestClient, db: Session, complete_answers: dict[str, Any]
) -> None:
    clinic_id = make_clinic(db)
    reader = make_key(db, "reader", clinic_id)
    writer = make_key(db, "writer", clinic_id, scopes=(CHECKINS_WRITE,))
    url = f"/api/v1/assessments/{stored(client, writer, complete_answers)}/checkins"
    refused = client.post(url, json={"answers": checkin_answers()}, headers=reader.headers)
    assert refused.status_code == 403
    assert refused.json()["problems"] == [
        {
            "field": "Authorization",
            "code": "scope_missing",
            "message": "needs the checkins:write scope",
        },
    ]
    assert count(db, Checkin) == 0
    assert client.get(url, headers=reader.headers).status_code == 200  # it still reads
    assert (
        client.post(url, json={"answers": checkin_answers()}, headers=writer.headers).status_code
        == 201
    )
