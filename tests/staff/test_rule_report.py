"""The rule report page (/staff/rules): admins only, their own clinic only, behind sign-in;
a table per month with a caption and scoped headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Clinic, utcnow
from app.services.questionnaires import Registry
from tests.fixtures import TestClock
from tests.monitoring_data import store, v2_answers

from .conftest import SignedInClient

ROW = re.compile(
    r'<tr><th scope="row">[^<]*<span class="code">([a-z_0-9]+)</span></th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>'
)


def rows(html: str) -> list[tuple[str, int, int, int]]:
    """(rule code, alone, with others, total) of every table on the page, in order."""
    return [(code, int(a), int(w), int(t)) for code, a, w, t in ROW.findall(html)]


def registry_of(client: TestClient) -> Registry:
    registry: Registry = client.app.state.registry  # type: ignore[attr-defined]
    return registry


def test_the_page_needs_a_signed_in_admin(
    client: TestClient, signed_in: SignedInClient, clinic: Clinic
) -> None:
    signed_out = client.get("/staff/rules", follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/staff/login?next=%2Fstaff%2Frules"

    clinician = signed_in(clinic, "clinician")
    assert clinician.get("/staff/rules").status_code == 403
    assert 'href="/staff/rules"' not in clinician.get("/staff/").text

    admin = signed_in(clinic, "admin")
    assert 'href="/staff/rules"' in admin.get("/staff/").text
    page = admin.get("/staff/rules")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "No submissions since" in page.text
    assert "No check-ins since" in page.text


def test_an_admin_sees_only_their_own_clinics_numbers(
    signed_in: SignedInClient, clinic: Clinic, other_clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    other_admin = signed_in(other_clinic, "admin")
    registry = registry_of(admin)
    now = utcnow()
    store(db, registry, v2_answers(registry, pain_intensity=9), at=now, clinic_id=clinic.id)
    store(db, registry, v2_answers(registry, pain_intensity=9, leg_pain="below_knee", leg_pain_worse_than_back=False, leg_numbness=False), at=now, clinic_id=clinic.id)  # fmt: skip
    store(db, registry, v2_answers(registry, pregnant=True), at=now, clinic_id=other_clinic.id)
    store(db, registry, v2_answers(registry, thoracic_pain=True), at=now)  # no clinic

    mine = admin.get("/staff/rules").text
    theirs = other_admin.get("/staff/rules").text

    assert rows(mine) == [("severe_pain", 1, 1, 2), ("radicular_below_knee", 0, 1, 1)]
    assert "2 submissions: 2 with at least one rule, 0 with none" in mine
    assert rows(theirs) == [("pregnancy", 1, 0, 1)]
    assert "1 submission: 1 with at least one rule, 0 with none" in theirs
    for page in (mine, theirs):
        assert "thoracic_pain" not in page


def test_the_period_chooses_the_months_newest_first(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    registry = registry_of(admin)
    now = utcnow()
    store(db, registry, v2_answers(registry, pain_intensity=9), at=now, clinic_id=clinic.id)
    store(db, registry, v2_answers(registry, pregnant=True), at=now - timedelta(days=400), clinic_id=clinic.id)  # fmt: skip

    assert rows(admin.get("/staff/rules").text) == [("severe_pain", 1, 0, 1)]  # 12 months
    everything = admin.get("/staff/rules", params={"period": "all"}).text
    assert rows(everything) == [("severe_pain", 1, 0, 1), ("pregnancy", 1, 0, 1)]
    assert '<option value="all" selected>' in everything
    # Anything else is the default, not an error.
    assert admin.get("/staff/rules", params={"period": "forever"}).status_code == 200


def test_each_months_table_has_a_caption_and_scoped_headers(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    registry = registry_of(admin)
    store(db, registry, v2_answers(registry, pain_intensity=9), at=utcnow(), clinic_id=clinic.id)

    page = admin.get("/staff/rules").text

    [table] = re.findall(r"<table.*?</table>", page, re.DOTALL)
    caption = re.search(r'<caption class="visually-hidden">([^<]+)</caption>', table)
    assert caption is not None
    assert caption.group(1).startswith("Submissions, ")
    assert re.findall(r'<th scope="(\w+)"', table) == ["col", "col", "col", "col", "row"]
    assert '<label class="label" for="period">' in page


def test_the_period_counts_back_from_the_apps_clock(
    signed_in: SignedInClient, clinic: Clinic, db: Session, clock: TestClock
) -> None:
    """The months are the app's clock's, which times the submissions (a date of its own here,
    never the calendar's): the export's file is named by its day too."""
    admin = signed_in(clinic, "admin")  # the sign-in helper works its code out by the calendar
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    registry = registry_of(admin)
    store(db, registry, v2_answers(registry, pain_intensity=9), at=clock(), clinic_id=clinic.id)
    long_ago = clock() - timedelta(days=400)
    store(db, registry, v2_answers(registry, pregnant=True), at=long_ago, clinic_id=clinic.id)

    assert rows(admin.get("/staff/rules").text) == [("severe_pain", 1, 0, 1)]  # 12 months
    export = admin.get("/staff/export.csv")
    assert (
        'filename="backaudit-submissions-2025-03-03.csv"' in export.headers["content-disposition"]
    )
