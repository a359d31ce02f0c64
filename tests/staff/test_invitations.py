"""Staff invitations: inviting answers the same whether or not an address has an account
somewhere, the account is made when the link is used, and a link that cannot be used reads
the same whatever the reason (issue 23: an admin could tell who works at another clinic)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from app.config import Settings
from app.models import AuditEvent, Clinic, StaffInvitation, StaffUser
from app.security import hash_token
from app.services import accounts
from tests.alert_receivers import Mailbox, mailbox  # noqa: F401 (a fixture)
from tests.fixtures import TestClock
from tests.support.network import free_port
from tests.support.settings import settings_with

from .conftest import MakeStaff, SignedInClient, form_token, sign_in

NEW_PASSWORD = "a long enough password"
_LINK = re.compile(r"http://127\.0\.0\.1:8000(/staff/invitation/([A-Za-z0-9_-]+))")


def invite(admin: TestClient, email: str, role: str = "clinician") -> Response:
    csrf_token = form_token(admin.get("/staff/members").text)
    form = {"csrf_token": csrf_token, "email": email, "role": role}
    return admin.post("/staff/members/new", data=form)


def link_in(text: str) -> tuple[str, str]:
    """The invitation link's path and token, in a page or an e-mail."""
    found = _LINK.search(text)
    assert found, "no invitation link"
    return found.group(1), found.group(2)


def without(page: Response, email: str) -> str:
    """The page with the address (as typed and as stored) and the link's token taken out."""
    text = page.text
    for token in _LINK.findall(text):
        text = text.replace(token[1], "TOKEN")
    return text.replace(email, "EMAIL").replace(email.lower(), "EMAIL")


def accept(browser: TestClient, path: str, password: str = NEW_PASSWORD) -> Response:
    form = browser.get(path)
    assert form.status_code == 200, form.text
    data = {"password": password, "confirm": password, "form_token": form_token(form.text)}
    return browser.post(path, data=data, follow_redirects=False)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """Someone else's browser: the person invited."""
    with TestClient(app) as opened:
        yield opened


def test_inviting_answers_the_same_for_a_free_address_one_in_use_elsewhere_and_one_invited_twice(
    signed_in: SignedInClient,
    clinic: Clinic,
    other_clinic: Clinic,
    make_staff: MakeStaff,
    db: Session,
) -> None:
    make_staff(other_clinic, email="theirs@hilltop.example")
    admin = signed_in(clinic, "admin")
    assert invite(admin, "twice@example.org").status_code == 200

    pages = {
        email: invite(admin, email)
        for email in ("free@example.org", "THEIRS@hilltop.example", "twice@example.org")
    }
    assert {page.status_code for page in pages.values()} == {200}
    texts = {without(page, email) for email, page in pages.items()}
    assert len(texts) == 1, "the pages differ by more than the address and the token"
    assert "Invitation for EMAIL" in texts.pop()

    # The same event in the clinic's log, apart from its invitation's id.
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "staff.invited")
        .order_by(col(AuditEvent.created_at))
    ).all()
    shapes = {(e.actor_id, e.target_type, str(e.detail)) for e in events}
    assert shapes == {(admin.staff_user.id, "staff_invitation", "{'role': 'clinician'}")}  # type: ignore[attr-defined]
    assert len(events) == 4
    # Nothing was made but invitations; each address is pending once.
    assert len(db.exec(select(StaffUser)).all()) == 2
    members = admin.get("/staff/members").text
    pending = members.split("Pending invitations", 1)[1]
    for email in ("free@example.org", "theirs@hilltop.example", "twice@example.org"):
        assert pending.count(f"<td>{email}</td>") == 1


def test_an_address_that_is_a_member_here_is_told_so(
    signed_in: SignedInClient, clinic: Clinic, make_staff: MakeStaff, db: Session
) -> None:
    ours = make_staff(clinic, email="ours@riverside.example")
    admin = signed_in(clinic, "admin")
    page = invite(admin, ours.email.upper())
    assert page.status_code == 422
    assert 'href="#email">This person is already a member of this clinic</a>' in page.text
    assert db.exec(select(StaffInvitation)).all() == []


def test_an_admin_invitation_makes_an_admin_who_sets_up_a_second_factor_at_sign_in(
    signed_in: SignedInClient, clinic: Clinic, browser: TestClient
) -> None:
    admin = signed_in(clinic, "admin")
    path, _ = link_in(invite(admin, "Cy@Riverside.example", "admin").text)
    assert accept(browser, path).status_code == 303
    signed = sign_in(browser, "cy@riverside.example", NEW_PASSWORD)
    assert signed.status_code == 303
    assert signed.headers["location"].startswith("/staff/second-factor")
    # Accepted: no longer pending, and a member.
    members = admin.get("/staff/members").text
    assert "cy@riverside.example" not in members.split("Pending invitations", 1)[1]
    assert "<td>cy@riverside.example</td>" in members


def test_a_link_that_cannot_be_used_reads_the_same_whatever_the_reason(
    signed_in: SignedInClient,
    clinic: Clinic,
    other_clinic: Clinic,
    make_staff: MakeStaff,
    app: FastAPI,
    clock: TestClock,
    db: Session,
) -> None:
    admin = signed_in(clinic, "admin")
    paths = {
        case: link_in(invite(admin, f"{case}@example.org").text)[0]
        for case in ("taken", "expired", "revoked", "accepted", "replaced")
    }
    browsers = {case: TestClient(app) for case in [*paths, "unknown"]}
    paths["unknown"] = "/staff/invitation/" + "x" * 43
    # Each person opens the form while the link still works (the unknown one: a usable one's).
    tokens = {
        case: form_token(browsers[case].get(paths[case if case != "unknown" else "taken"]).text)
        for case in paths
    }
    make_staff(other_clinic, email="taken@example.org")  # an account elsewhere, meanwhile
    invitation = db.exec(
        select(StaffInvitation).where(StaffInvitation.email == "revoked@example.org")
    ).one()
    revoked = admin.post(
        f"/staff/members/invitations/{invitation.id}/revoke",
        data={"csrf_token": form_token(admin.get("/staff/members").text)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert accept(TestClient(app), paths["accepted"]).status_code == 303
    invite(admin, "replaced@example.org")  # a new link replaces the first
    expired = db.exec(
        select(StaffInvitation).where(StaffInvitation.email == "expired@example.org")
    ).one()
    expired.expires_at = clock() - timedelta(seconds=1)  # its 72 hours are over (only its)
    db.add(expired)
    db.commit()

    answers = {}
    for case, path in paths.items():
        shown = browsers[case].get(path)
        data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "form_token": tokens[case]}
        sent = browsers[case].post(path, data=data)
        answers[case] = (shown.status_code, shown.text, sent.status_code, sent.text)
        browsers[case].close()
    assert len(set(answers.values())) == 1, {case: a[0] for case, a in answers.items()}
    status, text, _, _ = answers["taken"]
    assert status == 410
    assert "This invitation cannot be used" in text
    assert "Ask the clinic that invited you about it." in text
    # Nothing was made by any of them: the account elsewhere, the one accepted, the admins.
    emails = {user.email for user in db.exec(select(StaffUser)).all()}
    assert emails - {admin.staff_user.email} == {"taken@example.org", "accepted@example.org"}  # type: ignore[attr-defined]
    taken = db.exec(select(StaffUser).where(StaffUser.email == "taken@example.org")).one()
    assert taken.clinic_id == other_clinic.id


def test_a_password_that_cannot_be_used_keeps_the_invitation(
    signed_in: SignedInClient, clinic: Clinic, browser: TestClient, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    path, _ = link_in(invite(admin, "dee@example.org").text)
    assert accept(browser, path, password="short").status_code == 422
    form = browser.get(path)
    mismatch = browser.post(
        path,
        data={"password": NEW_PASSWORD, "confirm": "other", "form_token": form_token(form.text)},
    )
    assert mismatch.status_code == 422
    assert "The passwords do not match" in mismatch.text
    forged = browser.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert forged.status_code == 403
    assert db.exec(select(StaffUser).where(StaffUser.email == "dee@example.org")).first() is None
    assert accept(browser, path).status_code == 303


def test_a_clinic_sees_and_revokes_only_its_own_invitations(
    signed_in: SignedInClient,
    clinic: Clinic,
    other_clinic: Clinic,
    db: Session,
    browser: TestClient,
) -> None:
    theirs = signed_in(other_clinic, "admin")
    path, token = link_in(invite(theirs, "hers@hilltop.example").text)
    invitation = db.exec(
        select(StaffInvitation).where(StaffInvitation.token_hash == hash_token(token))
    ).one()
    admin = signed_in(clinic, "admin")
    assert "hers@hilltop.example" not in admin.get("/staff/members").text
    csrf_token = form_token(admin.get("/staff/members").text)
    for target in (str(invitation.id), "not-an-id", "00000000-0000-0000-0000-000000000000"):
        refused = admin.post(
            f"/staff/members/invitations/{target}/revoke", data={"csrf_token": csrf_token}
        )
        assert refused.status_code == 404, target
    assert admin.post(f"/staff/members/invitations/{invitation.id}/revoke").status_code == 403
    clinician = signed_in(other_clinic, "clinician")
    assert clinician.get("/staff/members").status_code == 403
    assert (
        clinician.post(
            f"/staff/members/invitations/{invitation.id}/revoke",
            data={"csrf_token": form_token(clinician.get("/staff/").text)},
        ).status_code
        == 403
    )
    # Untouched: it still works, in its own clinic.
    assert accept(browser, path).status_code == 303
    hers = db.exec(select(StaffUser).where(StaffUser.email == "hers@hilltop.example")).one()
    assert hers.clinic_id == other_clinic.id
    actions = [
        event.action
        for event in db.exec(select(AuditEvent).where(AuditEvent.clinic_id == other_clinic.id))
    ]
    assert "staff.invitation_accepted" in actions
    assert not [
        event
        for event in db.exec(select(AuditEvent).where(AuditEvent.clinic_id == clinic.id))
        if event.action.startswith("staff.invitation")
    ]


def test_revoking_an_invitation_ends_its_link_and_is_audited(
    signed_in: SignedInClient, clinic: Clinic, browser: TestClient, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    path, token = link_in(invite(admin, "eve@example.org").text)
    invitation = db.exec(
        select(StaffInvitation).where(StaffInvitation.token_hash == hash_token(token))
    ).one()
    members = admin.get("/staff/members")
    assert f"/staff/members/invitations/{invitation.id}/revoke" in members.text
    revoked = admin.post(
        f"/staff/members/invitations/{invitation.id}/revoke",
        data={"csrf_token": form_token(members.text)},
    )
    assert revoked.status_code == 200
    assert "The invitation has been revoked." in revoked.text
    assert "eve@example.org" not in revoked.text
    assert browser.get(path).status_code == 410
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "staff.invitation_revoked")).one()
    assert (event.target_type, event.target_id) == ("staff_invitation", str(invitation.id))


# -- by e-mail -----------------------------------------------------------------------------------


def test_with_smtp_the_link_goes_only_to_the_address_and_the_answer_is_still_the_same(
    signed_in: SignedInClient, clinic: Clinic, other_clinic: Clinic, make_staff: MakeStaff,
    app: FastAPI, settings: Settings, mailbox: Mailbox, browser: TestClient, db: Session,  # noqa: F811
) -> None:  # fmt: skip
    app.state.settings = settings_with(
        settings, mail={"host": "127.0.0.1", "port": mailbox.port, "starttls": False}
    )
    make_staff(other_clinic, email="theirs@hilltop.example")
    admin = signed_in(clinic, "admin")
    free, theirs = invite(admin, "free@example.org"), invite(admin, "theirs@hilltop.example")
    assert free.status_code == theirs.status_code == 200
    assert without(free, "free@example.org") == without(theirs, "theirs@hilltop.example")
    assert "sent by e-mail to free@example.org" in free.text
    assert "/staff/invitation/" not in free.text  # the admin never sees the link

    assert mailbox.recipients == [["free@example.org"], ["theirs@hilltop.example"]]
    mail = {str(message["To"]): message for message in mailbox.messages}
    body = mail["free@example.org"].get_content()
    assert (
        mail["free@example.org"]["Subject"]
        == "You are invited to join Riverside Physio on backaudit"
    )
    assert "as clinician" in body
    path, _ = link_in(body)
    assert accept(browser, path).status_code == 303
    assert sign_in(browser, "free@example.org", NEW_PASSWORD).status_code == 303
    # The address with an account elsewhere: its link reads like any dead link.
    their_path, _ = link_in(mail["theirs@hilltop.example"].get_content())
    assert browser.get(their_path).status_code == 410


def test_an_invitation_the_mail_server_does_not_take_is_withdrawn(
    signed_in: SignedInClient, clinic: Clinic, app: FastAPI, settings: Settings, db: Session
) -> None:
    # Nothing listens on this port: the connection is refused.
    app.state.settings = settings_with(
        settings, mail={"host": "127.0.0.1", "port": free_port(), "starttls": False}
    )
    admin = signed_in(clinic, "admin")
    page = invite(admin, "far@example.org")
    assert page.status_code == 503
    assert "could not be sent by e-mail" in page.text
    assert "Refused" not in page.text  # the network's words stay in the server's log
    assert "far@example.org" not in admin.get("/staff/members").text.split("Pending", 1)[1]
    invitation = db.exec(select(StaffInvitation)).one()
    assert invitation.revoked_at is not None
    actions = [e.action for e in db.exec(select(AuditEvent).order_by(col(AuditEvent.created_at)))]
    assert actions[-2:] == ["staff.invited", "staff.invitation_revoked"]


def test_an_address_taken_between_the_check_and_the_account_is_an_unusable_link(
    signed_in: SignedInClient,
    clinic: Clinic,
    other_clinic: Clinic,
    make_staff: MakeStaff,
    browser: TestClient,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two clinics' invitations for one address, accepted at the same moment: the second finds
    the address taken only when it makes the account. It reads as any unusable link, not a
    500, and its invitation stays pending."""
    admin = signed_in(clinic, "admin")
    path, _ = link_in(invite(admin, "both@example.org").text)
    form = browser.get(path)
    make_staff(other_clinic, email="both@example.org")  # the other clinic's, just now
    monkeypatch.setattr(accounts, "email_in_use", lambda *_: False)  # both checks came first
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "form_token": form_token(form.text)}
    sent = browser.post(path, data=data, follow_redirects=False)
    assert sent.status_code == 410
    assert "This invitation cannot be used" in sent.text
    db.expire_all()
    [pending] = db.exec(select(StaffInvitation)).all()
    assert pending.accepted_at is None
    [user] = db.exec(select(StaffUser).where(StaffUser.email == "both@example.org")).all()
    assert user.clinic_id == other_clinic.id
