"""app/config.py: the settings are grouped, but every group still reads the flat variable names
deployments have in their .env files, and a bad value is reported by its variable's name."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.config import Mail, Settings, SettingsGroup, retired_variables_set
from app.main import create_app

# For each group: variables a deployment sets, and what the group then holds.
FLAT_NAMES: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "operator": (
        {"OPERATOR_NAME": "Example Health", "CONTACT_EMAIL": "help@example.org"},
        {"name": "Example Health", "contact_email": "help@example.org"},
    ),
    "database": (
        {
            "DATABASE_URL": "postgresql://app@db/backaudit",
            "DB_POOL_SIZE": "5",
            "DB_MAX_OVERFLOW": "0",
            "DB_POOL_TIMEOUT": "2.5",
        },
        {
            "url": "postgresql://app@db/backaudit",
            "pool_size": 5,
            "max_overflow": 0,
            "pool_timeout": 2.5,
        },
    ),
    "http": (
        {"FORWARDED_ALLOW_IPS": "127.0.0.1", "ALLOWED_HOSTS": "a.example", "HEADERS_TIMEOUT": "3"},
        {"forwarded_allow_ips": "127.0.0.1", "allowed_hosts": "a.example", "headers_timeout": 3.0},
    ),
    "sign_in": (
        {
            "LOGIN_FIRST_DELAY_SECONDS": "5",
            "LOGIN_MAX_DELAY_EMAIL_SECONDS": "30",
            "LOGIN_MAX_DELAY_ADDRESS_SECONDS": "600",
        },
        {
            "first_delay_seconds": 5.0,
            "max_delay_email_seconds": 30.0,
            "max_delay_address_seconds": 600.0,
        },
    ),
    "limits": (
        {
            "RATE_LIMIT_API_KEY_PER_MINUTE": "0",
            "RATE_LIMIT_API_ADDRESS_PER_MINUTE": "7",
            "RATE_LIMIT_SUBMISSIONS_PER_HOUR": "8",
            "RATE_LIMIT_STAFF_INVITES_PER_HOUR": "9",
            "CHECKINS_PER_DAY": "100",
            "CHECKIN_DUPLICATE_MINUTES": "0",
        },
        {
            "api_key_per_minute": 0,
            "api_address_per_minute": 7,
            "submissions_per_hour": 8,
            "staff_invites_per_hour": 9,
            "checkins_per_day": 100,
            "checkin_duplicate_minutes": 0.0,
        },
    ),
    "mail": (
        {
            "SMTP_HOST": "mail.example",
            "SMTP_PORT": "25",
            "SMTP_USERNAME": "backaudit",
            "SMTP_PASSWORD": "hunter2",
            "SMTP_STARTTLS": "false",
        },
        {"host": "mail.example", "port": 25, "username": "backaudit", "starttls": False},
    ),
    "alerts": (
        {
            "ALERT_FROM": "alerts@example.org",
            "ALERT_TIMEOUT_SECONDS": "2",
            "WEBHOOK_ALLOWED_NETWORKS": "10.20.0.0/16",
        },
        {
            "sender": "alerts@example.org",
            "timeout_seconds": 2.0,
            "webhook_allowed_networks": "10.20.0.0/16",
        },
    ),
    "pdf": ({"PDF_WORKERS": "2", "PDF_MAX_PENDING": "4"}, {"workers": 2, "max_pending": 4}),
    "languages": (
        {"LANGUAGES_OFFER_DRAFT": "false", "LANGUAGES_PSEUDO_LOCALE": "true"},
        {"offer_draft": False, "pseudo_locale": True},
    ),
    "help_lines": (
        {
            "EMERGENCY_NUMBER": "112",
            "EMERGENCY_NAME": "112",
            "URGENT_NUMBER": "116117",
            "URGENT_NAME": "the 116117 helpline",
            "URGENT_ONLINE_URL": "",
            "URGENT_ONLINE_NAME": "",
        },
        {
            "emergency_number": "112",
            "emergency_name": "112",
            "urgent_number": "116117",
            "urgent_name": "the 116117 helpline",
            "urgent_online_url": "",
            "urgent_online_name": "",
        },
    ),
}

# For each group: a bad value for one of its variables.
BAD_VALUES = {
    "operator": ("CONTACT_EMAIL", "not-an-address"),
    "database": ("DB_POOL_SIZE", "many"),
    "http": ("HEADERS_TIMEOUT", "0"),
    "sign_in": ("LOGIN_FIRST_DELAY_SECONDS", "7200"),
    "limits": ("CHECKINS_PER_DAY", "0"),
    "mail": ("SMTP_PORT", "smtp"),
    "alerts": ("ALERT_TIMEOUT_SECONDS", "ten"),
    "pdf": ("PDF_WORKERS", "-1"),
    "languages": ("LANGUAGES_OFFER_DRAFT", "perhaps"),
    "help_lines": ("URGENT_NUMBER", "one-one-one"),
}


@pytest.fixture(autouse=True)
def no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Away from any .env file in the working directory, with none of the variables set."""
    monkeypatch.chdir(tmp_path)
    for group in Settings.model_fields.values():
        if isinstance(group.default, SettingsGroup):
            for name in group.default.variables():
                monkeypatch.delenv(name, raising=False)


def test_every_group_is_covered_below() -> None:
    groups = {n for n, f in Settings.model_fields.items() if isinstance(f.default, SettingsGroup)}
    assert groups == set(FLAT_NAMES) == set(BAD_VALUES)


@pytest.mark.parametrize("group", FLAT_NAMES)
def test_a_group_reads_the_flat_variable_names(monkeypatch: pytest.MonkeyPatch, group: str) -> None:
    variables, expected = FLAT_NAMES[group]
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    loaded = getattr(Settings(), group)
    assert {name: getattr(loaded, name) for name in expected} == expected


@pytest.mark.parametrize("group", FLAT_NAMES)
def test_a_group_reads_the_flat_variable_names_from_a_dot_env_file(
    tmp_path: Path, group: str
) -> None:
    variables, expected = FLAT_NAMES[group]
    (tmp_path / ".env").write_text("".join(f"{n}={v}\n" for n, v in variables.items()))
    loaded = getattr(Settings(), group)
    assert {name: getattr(loaded, name) for name in expected} == expected


@pytest.mark.parametrize("group", BAD_VALUES)
def test_a_bad_value_is_reported_by_its_variable(
    monkeypatch: pytest.MonkeyPatch, group: str
) -> None:
    variable, value = BAD_VALUES[group]
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable) as refused:
        Settings()
    assert refused.value.error_count() == 1


def test_the_environment_outranks_the_dot_env_file_and_a_group_given_in_code_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("SMTP_HOST=from-file\nSMTP_PORT=2525\n")
    monkeypatch.setenv("SMTP_HOST", "from-environment")
    assert (Settings().mail.host, Settings().mail.port) == ("from-environment", 2525)
    # A group given in code is taken whole, by its fields' names.
    given = Settings(mail=Mail(host="in-code"))
    assert (given.mail.host, given.mail.port) == ("in-code", 587)


def test_a_variable_named_after_a_group_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Login shells set MAIL (the mailbox's path): it is no setting, and must not stop the app.
    monkeypatch.setenv("MAIL", "/var/mail/backaudit")
    monkeypatch.setenv("PDF", "{not json")
    assert Settings().mail.host == ""


def test_a_retired_variable_is_named_at_start_up_as_doing_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Four settings became constants: a deployment that still sets one (in the environment
    or its .env file) is told so, not left to believe it works."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DEFAULT_QUESTIONNAIRE=other\n")
    monkeypatch.setenv("CORRECTION_WINDOW_MINUTES", "120")
    assert retired_variables_set(os.environ, tmp_path / ".env") == [
        "CORRECTION_WINDOW_MINUTES",
        "DEFAULT_QUESTIONNAIRE",
    ]
    with caplog.at_level(logging.WARNING, logger="backaudit"):
        create_app(Settings(environment="development")).state.engine.dispose()
    warned = [r.getMessage() for r in caplog.records if "no longer a setting" in r.getMessage()]
    assert len(warned) == 2
    assert warned[0].startswith("CORRECTION_WINDOW_MINUTES is set but is no longer a setting")
    monkeypatch.delenv("CORRECTION_WINDOW_MINUTES")
    (tmp_path / ".env").unlink()
    assert retired_variables_set(os.environ, tmp_path / ".env") == []
