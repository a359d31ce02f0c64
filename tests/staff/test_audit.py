"""The audit log page: what each event was about, in words, for admins."""

from __future__ import annotations

import re

from sqlmodel import Session

from app.models import Clinic
from app.services import audit

from .conftest import SignedInClient

ITEM = re.compile(r"<td>([^<]*)</td>\s*</tr>")


def items(html: str) -> list[str]:
    """The Item column, newest event first."""
    return [item.strip() for item in ITEM.findall(html)]


def test_a_csv_export_shows_its_filters_in_words_never_none(
    signed_in: SignedInClient, clinic: Clinic
) -> None:
    admin = signed_in(clinic, "admin")
    admin.get("/staff/export.csv")
    admin.get(
        "/staff/export.csv",
        params={
            "level": ["emergency", "urgent"],
            "from": "2026-03-01",
            "to": "2026-03-31",
            "reviewed": "no",
        },
    )
    admin.get("/staff/export.csv", params={"to": "2026-03-31", "reviewed": "yes"})

    page = admin.get("/staff/audit")

    assert page.status_code == 200
    assert "None" not in page.text
    assert items(page.text)[:3] == [
        "Submissions: submitted up to 31 Mar 2026; reviewed",
        "Submissions: Emergency or Urgent; submitted from 01 Mar 2026 to 31 Mar 2026; not reviewed",
        "All submissions",
    ]


def test_an_event_shows_its_item_only_when_it_has_one(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    audit.record(
        db, clinic_id=clinic.id, actor_id=None, action="api_key.revoked",
        target_type="api_client", target_id="0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11",
    )  # fmt: skip
    audit.record(
        db, clinic_id=clinic.id, actor_id=None, action="something.else", target_type="assessment"
    )
    db.commit()

    page = admin.get("/staff/audit")

    assert items(page.text)[:2] == ["", "api_client 0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11"]
    assert "None" not in page.text
