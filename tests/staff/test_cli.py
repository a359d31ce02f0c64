"""Starting a clinic from the command line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, col, select

from app.cli import main
from app.config import Settings, get_settings
from app.models import AuditEvent, Clinic, StaffUser


@pytest.fixture(autouse=True)
def use_test_database(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, db: Session
) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", settings.database.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_clinic_create_prints_its_id_and_list_shows_it(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    assert main(["clinic", "create", "Riverside Physio"]) == 0
    clinic = db.exec(select(Clinic)).one()
    assert f"id: {clinic.id}" in capsys.readouterr().out
    assert main(["clinic", "list"]) == 0
    assert "Riverside Physio" in capsys.readouterr().out


def test_user_create_asks_for_a_password_when_interactive(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    main(["clinic", "create", "Riverside Physio"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a good long password")
    assert (
        main(
            [
                "user",
                "create",
                "--clinic",
                "Riverside Physio",
                "--email",
                "Ann@Example.org",
                "--role",
                "admin",
            ]
        )
        == 0
    )
    user = db.exec(select(StaffUser)).one()
    assert user.email == "ann@example.org"
    assert user.role == "admin"
    assert user.password_hash is not None
    assert "set-password" not in capsys.readouterr().out


def test_user_create_without_a_password_prints_a_one_time_link(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    main(["clinic", "create", "Riverside Physio"])
    assert (
        main(
            [
                "user",
                "create",
                "--clinic",
                "Riverside Physio",
                "--email",
                "bo@example.org",
                "--no-password",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "/staff/set-password/" in out
    assert db.exec(select(StaffUser)).one().password_hash is None


def test_user_create_refuses_an_unknown_clinic_and_a_duplicate_e_mail(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    assert (
        main(["user", "create", "--clinic", "Nowhere", "--email", "a@example.org", "--no-password"])
        == 2
    )
    main(["clinic", "create", "Riverside Physio"])
    main(
        [
            "user",
            "create",
            "--clinic",
            "Riverside Physio",
            "--email",
            "a@example.org",
            "--no-password",
        ]
    )
    assert (
        main(
            [
                "user",
                "create",
                "--clinic",
                "Riverside Physio",
                "--email",
                "A@example.org",
                "--no-password",
            ]
        )
        == 2
    )
    assert "already an account" in capsys.readouterr().err
    assert len(db.exec(select(StaffUser)).all()) == 1


def test_clinic_create_takes_contact_details_and_a_time_zone(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    assert main([
        "clinic", "create", "Riverside Physio", "--phone", "01632 960 001",
        "--email", "reception@riverside.example", "--address", "1 River St\\nTown",
        "--time-zone", "Europe/Dublin",
    ]) == 0  # fmt: skip
    clinic = db.exec(select(Clinic)).one()
    assert (clinic.phone, clinic.contact_email, clinic.address, clinic.time_zone) == (
        "01632 960 001", "reception@riverside.example", "1 River St\nTown", "Europe/Dublin",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Riverside\nBcc: everyone@example.org", "Remove tabs, line breaks and other control"),
        ("Riverside\rPhysio", "Remove tabs, line breaks and other control"),
        ("Riverside\u202ePhysio", "Remove tabs, line breaks and other control"),
        ("   ", "A clinic needs a name"),
        ("R" * 201, "The name must be 200 characters or fewer"),
    ],
)
def test_clinic_create_refuses_a_name_the_forms_would_refuse(
    capsys: pytest.CaptureFixture[str], db: Session, name: str, message: str
) -> None:
    assert main(["clinic", "create", name]) == 2
    assert message in capsys.readouterr().err
    assert db.exec(select(Clinic)).all() == []


def test_clinic_create_names_the_option_with_a_problem_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    assert main(["clinic", "create", "Riverside Physio", "--time-zone", "London"]) == 2
    err = capsys.readouterr().err
    assert "--time-zone: The time zone must be a name" in err
    assert "nothing was created" in err
    assert db.exec(select(Clinic)).all() == []


def test_clinic_update_changes_only_the_options_given(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    main(["clinic", "create", "Riverside Physio", "--phone", "01632 960 001"])
    assert main(["clinic", "update", "Riverside Physio", "--time-zone", "Asia/Tokyo"]) == 0
    assert "time_zone changed" in capsys.readouterr().out
    db.expire_all()
    clinic = db.exec(select(Clinic)).one()
    assert (clinic.phone, clinic.time_zone) == ("01632 960 001", "Asia/Tokyo")
    assert main(["clinic", "update", "Riverside Physio", "--email", "nope"]) == 2
    assert "--email: Enter the e-mail address" in capsys.readouterr().err


def test_clinic_alerts_sets_the_email_and_webhook_and_prints_the_secret_once(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    main(["clinic", "create", "Riverside Physio"])
    capsys.readouterr()
    assert (
        main(
            [
                "clinic",
                "alerts",
                "Riverside Physio",
                "--email",
                "desk@riverside.example",
                "--webhook-url",
                "https://hooks.riverside.example/ba",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    clinic = db.exec(select(Clinic)).one()
    assert clinic.alert_email == "desk@riverside.example"
    assert clinic.webhook_url == "https://hooks.riverside.example/ba"
    assert clinic.webhook_secret is not None
    assert f"webhook signing secret (shown once):\n{clinic.webhook_secret}" in out

    assert main(["clinic", "alerts", "Riverside Physio"]) == 0  # just shows them
    out = capsys.readouterr().out
    assert "e-mail:  desk@riverside.example" in out
    assert clinic.webhook_secret not in out

    first = clinic.webhook_secret
    assert main(["clinic", "alerts", "Riverside Physio", "--new-webhook-secret"]) == 0
    db.expire_all()
    rotated = db.exec(select(Clinic)).one().webhook_secret
    assert rotated not in (None, first)
    assert f"\n{rotated}" in capsys.readouterr().out
    actions = [e.action for e in db.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()]
    assert actions == [
        "alerts.email_set", "alerts.webhook_set", "alerts.webhook_secret_rotated",
    ]  # fmt: skip


def test_clinic_alerts_refuses_a_bad_address_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    main(["clinic", "create", "Riverside Physio"])
    assert (
        main(["clinic", "alerts", "Riverside Physio", "--email", "two@a.example, b@c.example"]) == 2
    )
    assert "Enter one e-mail address" in capsys.readouterr().err
    assert db.exec(select(Clinic)).one().alert_email is None


def test_clinic_alerts_refuses_a_webhook_at_an_internal_address_unless_its_network_is_allowed(
    capsys: pytest.CaptureFixture[str], db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    main(["clinic", "create", "Riverside Physio"])
    for url in ("https://169.254.169.254/latest", "https://localhost:5432/", "https://10.20.3.4/"):
        assert main(["clinic", "alerts", "Riverside Physio", "--webhook-url", url]) == 2, url
        assert "Enter an address on the internet" in capsys.readouterr().err
    assert db.exec(select(Clinic)).one().webhook_url is None
    monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", "10.20.0.0/16")
    get_settings.cache_clear()
    url = "https://10.20.3.4/"
    assert main(["clinic", "alerts", "Riverside Physio", "--webhook-url", url]) == 0
    db.expire_all()
    assert db.exec(select(Clinic)).one().webhook_url == url
