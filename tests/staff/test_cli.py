"""Starting a clinic from the command line."""

from __future__ import annotations

import getpass
import re
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from app.cli import main
from app.config import Settings, get_settings
from app.models import AuditEvent, Clinic, IntakeLink, StaffUser, utcnow
from app.services.intake import resolve_link


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
        "01632 960 001",
        "reception@riverside.example",
        "1 River St\nTown",
        "Europe/Dublin",
    )


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
        "alerts.email_set",
        "alerts.webhook_set",
        "alerts.webhook_secret_rotated",
    ]


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


# -- intake links from the command line, and errors in one line (issue 26) ------------------------


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("backaudit: "), lines[0]
    return lines[0]


def test_link_create_prints_a_link_the_patient_pages_open(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    main(["clinic", "create", "Riverside Physio"])
    capsys.readouterr()
    assert main(["link", "create", "--clinic", "Riverside Physio", "--label", "Appt 4471"]) == 0
    out = capsys.readouterr().out
    link = db.exec(select(IntakeLink)).one()
    assert not link.single_use  # a poster link unless --single-use
    assert link.label == "Appt 4471"
    assert link.created_by_id is None
    assert timedelta(days=13, hours=23) < link.expires_at - utcnow() <= timedelta(days=14)
    [url] = re.findall(r"^https?://\S+/intake/(\S+)$", out, re.M)
    assert resolve_link(db, url)[0].id == link.id  # the printed token opens this link
    assert "for many submissions" in out
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "link.created")).one()
    assert event.detail == {"single_use": False, "days": 14, "by": "command line"}
    assert event.actor_id is None


def test_link_create_takes_single_use_and_an_expiry_in_days_or_as_a_last_day(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    main(["clinic", "create", "Riverside Physio", "--time-zone", "Asia/Tokyo"])
    assert (
        main(["link", "create", "--clinic", "Riverside Physio", "--single-use", "--expires", "3"])
        == 0
    )
    last_day = (utcnow() + timedelta(days=10)).astimezone(ZoneInfo("Asia/Tokyo")).date()
    assert (
        main(["link", "create", "--clinic", "Riverside Physio", "--expires", last_day.isoformat()])
        == 0
    )
    short, dated = db.exec(select(IntakeLink).order_by(col(IntakeLink.expires_at))).all()
    assert short.single_use
    assert timedelta(days=2, hours=23) < short.expires_at - utcnow() <= timedelta(days=3)
    # Until the end of that day where the clinic is.
    end = datetime.combine(
        last_day + timedelta(days=1), datetime.min.time(), ZoneInfo("Asia/Tokyo")
    )
    assert abs(dated.expires_at - end) < timedelta(seconds=5)
    assert "for one submission" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--clinic", "Nowhere"], "no clinic with id or name 'Nowhere'; no link was made"),
        (["--expires", "soon"], "--expires: 'soon' is neither a number of days nor a date"),
        (["--expires", "0"], "--expires: '0' is not in the future"),
        (["--expires", "2020-01-01"], "--expires: '2020-01-01' is not in the future"),
        (["--expires", "91"], "--expires: a link works for at most 90 days"),
        (["--label", "Appt\t4471"], "no link was made"),
    ],
)
def test_link_create_refuses_in_one_line_and_makes_nothing(
    capsys: pytest.CaptureFixture[str], db: Session, argv: list[str], says: str
) -> None:
    main(["clinic", "create", "Riverside Physio"])
    capsys.readouterr()
    argv = argv if "--clinic" in argv else ["--clinic", "Riverside Physio", *argv]
    assert main(["link", "create", *argv]) == 2
    assert says in _one_line(capsys.readouterr().err)
    assert db.exec(select(IntakeLink)).all() == []


def test_a_short_admin_password_is_asked_for_again_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    main(["clinic", "create", "Riverside Physio"])
    capsys.readouterr()
    typed = iter(["short", "a good long password", "a good long password"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    argv = ["user", "create", "--clinic", "Riverside Physio", "--email", "lead@example.org", "--role", "admin"]  # fmt: skip
    assert main(argv) == 0
    assert _one_line(capsys.readouterr().err) == (
        "backaudit: use at least 12 characters; try again"
    )
    assert db.exec(select(StaffUser)).one().password_hash is not None


def test_three_short_passwords_stop_in_one_line_each_and_create_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    main(["clinic", "create", "Riverside Physio"])
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "short")
    argv = ["user", "create", "--clinic", "Riverside Physio", "--email", "lead@example.org", "--role", "admin"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        *["backaudit: use at least 12 characters; try again"] * 3,
        "backaudit: no usable password given; nothing was created",
    ]
    assert db.exec(select(StaffUser)).all() == []


def test_a_terminal_that_cannot_hide_the_password_is_said_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    def echoing_getpass(prompt: str = "") -> str:
        warnings.warn("Can not control echo on the terminal.", getpass.GetPassWarning, stacklevel=2)
        return "a good long password"

    main(["clinic", "create", "Riverside Physio"])
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", echoing_getpass)
    argv = ["user", "create", "--clinic", "Riverside Physio", "--email", "lead@example.org", "--role", "admin"]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["backaudit: this terminal showed the password as it was typed"] * 2


def test_ctrl_c_at_a_prompt_stops_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    def interrupted(prompt: str = "") -> str:
        raise KeyboardInterrupt

    main(["clinic", "create", "Riverside Physio"])
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", interrupted)
    assert (
        main(["user", "create", "--clinic", "Riverside Physio", "--email", "a@example.org"]) == 130
    )
    assert _one_line(capsys.readouterr().err) == "backaudit: stopped"
    assert db.exec(select(StaffUser)).all() == []


def test_a_bad_time_zone_is_one_line_naming_the_option(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    assert main(["clinic", "create", "Riverside Physio", "--time-zone", "Mars/Base"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("backaudit: --time-zone: ")
    assert line.endswith("; nothing was created")
