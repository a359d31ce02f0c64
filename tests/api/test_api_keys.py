"""The api-key service and `backaudit api-key create|list|revoke`."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.cli import main
from app.config import get_settings
from app.models import ApiClient
from app.security import hash_token
from app.services import api_keys

from .conftest import make_clinic


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_new_key_is_stored_only_as_a_hash(db: Session) -> None:
    client, key = api_keys.create_api_key(session=db, name="booking app")
    db.commit()

    assert api_keys.KEY_PATTERN.match(key)
    assert client.key_hash == hash_token(key)
    assert client.key_prefix == key[:10]
    rows = db.connection().execute(text("SELECT * FROM api_client")).all()
    assert all(key not in str(value) for row in rows for value in row)


def test_authenticate_accepts_the_key_and_refuses_anything_else(db: Session) -> None:
    client, key = api_keys.create_api_key(session=db, name="app")
    db.commit()

    authenticated = api_keys.authenticate(db, key=key)
    assert authenticated is not None
    assert authenticated.id == client.id
    assert api_keys.authenticate(db, key=key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert api_keys.authenticate(db, key="") is None


def test_a_revoked_key_no_longer_authenticates(db: Session) -> None:
    client, key = api_keys.create_api_key(session=db, name="app")
    api_keys.revoke_api_key(session=db, prefix_or_id=client.key_prefix)
    db.commit()

    assert api_keys.authenticate(db, key=key) is None


def test_a_key_needs_a_name(db: Session) -> None:
    with pytest.raises(ValueError, match="name"):
        api_keys.create_api_key(session=db, name="  ")


@pytest.mark.usefixtures("cli_database")
def test_create_prints_the_key_once_and_it_works(
    db: Session, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api-key", "create", "--name", "booking app"]) == 0

    out, err = capsys.readouterr()
    key = out.strip()
    assert api_keys.KEY_PATTERN.match(key)
    assert "only time the key is shown" in err
    assert key not in err
    response = client.get(
        "/api/v1/assessments/0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 404


@pytest.mark.usefixtures("cli_database")
@pytest.mark.parametrize("by", ["name", "id"])
def test_create_ties_a_key_to_a_clinic_by_name_or_id(
    db: Session, capsys: pytest.CaptureFixture[str], by: str
) -> None:
    clinic_id = make_clinic(db, "Riverside Physio")
    clinic = "Riverside Physio" if by == "name" else str(clinic_id)

    assert main(["api-key", "create", "--name", "reception", "--clinic", clinic]) == 0

    key = capsys.readouterr().out.strip()
    db.expire_all()
    stored = api_keys.authenticate(db, key=key)
    assert stored is not None
    assert stored.clinic_id == clinic_id


@pytest.mark.usefixtures("cli_database")
def test_create_grants_the_checkins_write_scope_only_when_asked(
    db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    make_clinic(db, "Riverside Physio")
    base = ["api-key", "create", "--clinic", "Riverside Physio", "--name"]
    assert main([*base, "reader"]) == 0
    reader = capsys.readouterr().out.strip()
    assert main([*base, "writer", "--scope", "checkins:write"]) == 0
    writer = capsys.readouterr().out.strip()
    db.expire_all()
    read_only, may_write = (
        api_keys.authenticate(db, key=reader),
        api_keys.authenticate(db, key=writer),
    )
    assert read_only is not None
    assert not read_only.may_write_checkins
    assert may_write is not None
    assert may_write.may_write_checkins
    with pytest.raises(SystemExit):
        main([*base, "other", "--scope", "everything"])
    assert main(["api-key", "list"]) == 0
    listed = capsys.readouterr().out
    assert "checkins:write" in next(line for line in listed.splitlines() if "writer" in line)


@pytest.mark.usefixtures("cli_database")
def test_create_with_an_unknown_clinic_fails_and_makes_no_key(
    db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api-key", "create", "--name", "x", "--clinic", "Nowhere"]) == 2

    assert "no clinic" in capsys.readouterr().err
    assert db.exec(text("SELECT count(*) FROM api_client")).one()[0] == 0  # type: ignore[call-overload]


@pytest.mark.usefixtures("cli_database")
def test_list_shows_prefix_state_and_name_but_never_a_key(
    db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    active, active_key = api_keys.create_api_key(session=db, name="booking app")
    revoked, _ = api_keys.create_api_key(session=db, name="old app")
    api_keys.revoke_api_key(session=db, prefix_or_id=str(revoked.id))
    db.commit()

    assert main(["api-key", "list"]) == 0

    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "active" in lines[active.key_prefix]
    assert "booking app" in lines[active.key_prefix]
    assert "revoked" in lines[revoked.key_prefix]
    assert active_key not in out


@pytest.mark.usefixtures("cli_database")
@pytest.mark.parametrize("by", ["prefix", "id"])
def test_revoke_by_prefix_or_id(db: Session, capsys: pytest.CaptureFixture[str], by: str) -> None:
    client, key = api_keys.create_api_key(session=db, name="booking app")
    db.commit()

    target = client.key_prefix if by == "prefix" else str(client.id)
    assert main(["api-key", "revoke", target]) == 0

    assert "revoked" in capsys.readouterr().out
    db.expire_all()
    assert api_keys.authenticate(db, key=key) is None
    row = db.get(ApiClient, client.id)
    assert row is not None
    assert row.revoked_at is not None


@pytest.mark.usefixtures("cli_database")
def test_revoke_an_unknown_key_fails_clearly(
    capsys: pytest.CaptureFixture[str], db: Session
) -> None:
    assert main(["api-key", "revoke", "ba_nothing"]) == 2
    assert "no API key" in capsys.readouterr().err


@pytest.mark.usefixtures("cli_database")
def test_list_lines_up_every_column_under_its_heading(
    db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic_id = make_clinic(db, "Riverside Physio")
    api_keys.create_api_key(session=db, name="booking app", clinic_id=clinic_id)
    api_keys.create_api_key(session=db, name="no clinic")
    db.commit()

    assert main(["api-key", "list"]) == 0

    header, *rows = capsys.readouterr().out.splitlines()
    # Columns are two or more spaces apart (a heading or a date may hold a single space).
    starts = [match.start() for match in re.finditer(r"(?:^|(?<=  ))\S", header)]
    assert len(starts) == 7  # PREFIX STATE CREATED CLINIC SCOPES ID NAME
    assert len(rows) == 2
    for row in rows:
        for start in starts[1:]:
            assert row[start - 2 : start] == "  ", (row, start)
            assert row[start] != " ", (row, start)
    assert str(clinic_id) in rows[0] + rows[1]
