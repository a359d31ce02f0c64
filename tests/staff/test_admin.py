"""Admin pages: staff accounts, the clinic's API keys, the audit log; isolation between clinics."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, select

from app.config import Settings
from app.models import ApiClient, AuditEvent, Clinic, StaffInvitation, StaffUser
from app.services import api_keys
from tests.fixtures import TestClock
from tests.support.settings import settings_with

from .conftest import MakeStaff, SignedInClient, form_token, sign_in


def token(browser: TestClient) -> str:
    return form_token(browser.get("/staff/members").text)


def test_clinicians_cannot_open_admin_pages(signed_in: SignedInClient, clinic: Clinic) -> None:
    browser = signed_in(clinic, "clinician")
    for path in ("/staff/members", "/staff/members/new", "/staff/api-keys", "/staff/audit"):
        assert browser.get(path).status_code == 403, path


def test_admin_invites_a_member_who_sets_a_password_and_signs_in(
    signed_in: SignedInClient, clinic: Clinic, client: TestClient, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    page = admin.post(
        "/staff/members/new",
        data={"csrf_token": token(admin), "email": "Bo@Riverside.example", "role": "clinician"},
    )
    assert page.status_code == 200
    assert "Invitation for bo@riverside.example" in page.text
    link = re.search(r'value="(http[^"]+/staff/invitation/[^"]+)"', page.text)
    assert link is not None
    # No account until the invitation is accepted.
    assert (
        db.exec(select(StaffUser).where(StaffUser.email == "bo@riverside.example")).first() is None
    )
    path = link.group(1).split("127.0.0.1:8000", 1)[1]
    form = client.get(path)
    assert "join the staff of <strong>Riverside" in form.text
    assert "as clinician" in form.text
    accepted = client.post(
        path,
        data={
            "password": "a long enough password",
            "confirm": "a long enough password",
            "form_token": form_token(form.text),
        },
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/staff/login?password_set=1"
    assert sign_in(client, "bo@riverside.example", "a long enough password").status_code == 303
    member = db.exec(select(StaffUser).where(StaffUser.email == "bo@riverside.example")).one()
    assert (member.clinic_id, member.role) == (clinic.id, "clinician")
    actions = [e.action for e in db.exec(select(AuditEvent)).all()]
    assert "staff.invited" in actions
    assert "staff.invitation_accepted" in actions


def test_invite_errors_are_shown_by_field(signed_in: SignedInClient, clinic: Clinic) -> None:
    admin = signed_in(clinic, "admin")
    page = admin.post(
        "/staff/members/new",
        data={"csrf_token": token(admin), "email": "not-an-email", "role": "clinician"},
    )
    assert page.status_code == 422
    assert 'href="#email"' in page.text
    assert "Enter an e-mail address" in page.text


@pytest.mark.parametrize("email", ["bo\x00@riverside.example", "bo@river\tside.example"])
def test_an_e_mail_with_control_characters_is_refused(
    signed_in: SignedInClient, clinic: Clinic, db: Session, email: str
) -> None:
    admin = signed_in(clinic, "admin")
    page = admin.post(
        "/staff/members/new", data={"csrf_token": token(admin), "email": email, "role": "clinician"}
    )
    assert page.status_code == 422
    assert 'href="#email">Remove tabs, line breaks and other control characters' in page.text
    assert 'id="email-error"' in page.text
    assert len(db.exec(select(StaffUser)).all()) == 1  # only the admin


def test_admin_changes_a_role_and_disables_a_member_but_not_themselves(
    signed_in: SignedInClient, clinic: Clinic, make_staff: MakeStaff, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    member = make_staff(clinic)
    csrf_token = token(admin)
    assert (
        admin.post(
            f"/staff/members/{member.id}/role",
            data={"csrf_token": csrf_token, "role": "admin"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    assert (
        admin.post(
            f"/staff/members/{member.id}/disable",
            data={"csrf_token": csrf_token},
            follow_redirects=False,
        ).status_code
        == 303
    )
    db.expire_all()
    changed = db.get(StaffUser, member.id)
    assert changed is not None
    assert changed.role == "admin"
    assert changed.disabled_at is not None
    me = admin.staff_user  # type: ignore[attr-defined]
    assert (
        admin.post(f"/staff/members/{me.id}/disable", data={"csrf_token": csrf_token}).status_code
        == 400
    )


def test_admin_posts_without_the_csrf_token_are_refused(
    signed_in: SignedInClient, clinic: Clinic, make_staff: MakeStaff
) -> None:
    admin = signed_in(clinic, "admin")
    member = make_staff(clinic)
    assert (
        admin.post(
            "/staff/members/new", data={"email": "x@example.org", "role": "admin"}
        ).status_code
        == 403
    )
    assert (
        admin.post(f"/staff/members/{member.id}/disable", data={"csrf_token": "forged"}).status_code
        == 403
    )
    assert admin.post("/staff/api-keys", data={"name": "Booking"}).status_code == 403


def test_an_admin_grants_a_key_the_checkins_write_scope_only_by_ticking_it(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    form = admin.get("/staff/api-keys")
    assert 'name="checkins_write"' in form.text
    admin.post("/staff/api-keys", data={"csrf_token": token(admin), "name": "Reader"})
    admin.post(
        "/staff/api-keys",
        data={"csrf_token": token(admin), "name": "Writer", "checkins_write": "yes"},
    )
    scopes = {c.name: c.scopes for c in db.exec(select(ApiClient)).all()}
    assert scopes == {"Reader": "", "Writer": "checkins:write"}
    listed = admin.get("/staff/api-keys").text
    assert re.search(r"Writer</td>.*?<td>Yes</td>", listed, re.S)
    assert re.search(r"Reader</td>.*?<td>No</td>", listed, re.S)


def test_admin_makes_and_revokes_an_api_key_that_works_on_the_api(
    signed_in: SignedInClient, clinic: Clinic, client: TestClient, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    page = admin.post(
        "/staff/api-keys", data={"csrf_token": token(admin), "name": "Booking system"}
    )
    key = re.search(r'value="(ba_[^"]+)"', page.text)
    assert key is not None
    stored = db.exec(select(ApiClient)).one()
    assert stored.clinic_id == clinic.id
    assert stored.key_hash != key.group(1)
    headers = {"Authorization": f"Bearer {key.group(1)}"}
    assert (
        client.get(
            "/api/v1/assessments/00000000-0000-0000-0000-000000000000", headers=headers
        ).status_code
        == 404
    )
    admin.post(f"/staff/api-keys/{stored.id}/revoke", data={"csrf_token": token(admin)})
    assert (
        client.get(
            "/api/v1/assessments/00000000-0000-0000-0000-000000000000", headers=headers
        ).status_code
        == 401
    )
    assert {"api_key.created", "api_key.revoked"} <= {
        e.action for e in db.exec(select(AuditEvent)).all()
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Booking\x00system", "Remove tabs, line breaks and other control characters"),
        ("Booking\nsystem", "Remove tabs, line breaks and other control characters"),
        ("  ", "Enter a name for the app that will use the key"),
    ],
)
def test_an_api_key_name_that_cannot_be_used_is_named_and_nothing_is_stored(
    signed_in: SignedInClient, clinic: Clinic, db: Session, name: str, message: str
) -> None:
    admin = signed_in(clinic, "admin")
    page = admin.post("/staff/api-keys", data={"csrf_token": token(admin), "name": name})
    assert page.status_code == 422
    assert f'href="#name">{message}' in page.text
    assert 'id="name-error"' in page.text
    assert db.exec(select(ApiClient)).all() == []


def test_clinics_see_and_touch_only_their_own_staff_and_keys(
    signed_in: SignedInClient,
    clinic: Clinic,
    other_clinic: Clinic,
    make_staff: MakeStaff,
    db: Session,
) -> None:
    theirs = make_staff(other_clinic, "admin", email="boss@hilltop.example")
    their_key, _ = api_keys.create_api_key(
        session=db, name="Hilltop app", clinic_id=other_clinic.id
    )
    db.commit()
    admin = signed_in(clinic, "admin")
    csrf_token = token(admin)
    assert "boss@hilltop.example" not in admin.get("/staff/members").text
    assert "Hilltop app" not in admin.get("/staff/api-keys").text
    assert (
        admin.post(
            f"/staff/members/{theirs.id}/disable", data={"csrf_token": csrf_token}
        ).status_code
        == 404
    )
    assert (
        admin.post(
            f"/staff/members/{theirs.id}/role", data={"csrf_token": csrf_token, "role": "clinician"}
        ).status_code
        == 404
    )
    assert (
        admin.post(
            f"/staff/api-keys/{their_key.id}/revoke", data={"csrf_token": csrf_token}
        ).status_code
        == 404
    )
    db.expire_all()
    assert db.get(ApiClient, their_key.id).revoked_at is None  # type: ignore[union-attr]
    assert db.get(StaffUser, theirs.id).disabled_at is None  # type: ignore[union-attr]


def test_the_audit_log_lists_only_this_clinics_events(
    signed_in: SignedInClient, clinic: Clinic, other_clinic: Clinic
) -> None:
    signed_in(other_clinic, "admin")  # a login at the other clinic
    admin = signed_in(clinic, "admin")
    page = admin.get("/staff/audit")
    assert page.status_code == 200
    assert page.text.count("staff.login") == 1


def test_a_clinic_can_invite_only_so_many_addresses_an_hour(
    signed_in: SignedInClient, clinic: Clinic, other_clinic: Clinic, make_staff: MakeStaff,
    db: Session, app: FastAPI, settings: Settings, clock: TestClock,
) -> None:  # fmt: skip
    """Every invitation counts against the clinic, an address in use elsewhere like any other
    (it gets the same answer): a clinic cannot send invitations by the hundred."""
    app.state.settings = settings_with(settings, limits={"staff_invites_per_hour": 3})
    theirs = make_staff(other_clinic, email="theirs@hilltop.example")
    admin, colleague = signed_in(clinic, "admin"), signed_in(clinic, "admin")

    def invite(browser: TestClient, email: str) -> Response:
        form = {"csrf_token": token(browser), "email": email, "role": "clinician"}
        return browser.post("/staff/members/new", data=form)

    assert invite(admin, "guess1@hilltop.example").status_code == 200
    assert invite(admin, theirs.email).status_code == 200
    assert invite(colleague, "guess2@hilltop.example").status_code == 200
    refused = invite(colleague, "guess3@hilltop.example")  # the clinic's admins share the count
    assert refused.status_code == 429
    assert 1190 <= int(refused.headers["Retry-After"]) <= 1200  # three an hour
    assert 'href="#email">This clinic has tried to add many staff members' in refused.text
    assert invite(admin, "guess3@hilltop.example").status_code == 429
    invited = {row.email for row in db.exec(select(StaffInvitation)).all()}
    assert invited == {"guess1@hilltop.example", "theirs@hilltop.example", "guess2@hilltop.example"}
    clock.advance(timedelta(minutes=20))
    assert invite(admin, "guess3@hilltop.example").status_code == 200
