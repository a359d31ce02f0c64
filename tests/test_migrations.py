"""The migrations make the schema from empty, match the models exactly, and undo cleanly.

Runs on a fresh SQLite file always, and on a fresh temporary PostgreSQL database (created next
to the one in TEST_DATABASE_URL, never touching it) when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Generator, Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
import zstandard
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from app.cli import main
from app.column_types import JSONType
from app.config import get_settings
from app.db import make_engine, normalise_url
from app.migrate import downgrade, prepare, upgrade
from app.models import Assessment, metadata

TABLES = {
    "alert",
    "alert_attempt",
    "api_client",
    "assessment",
    "audit_event",
    "checkin",
    "clinic",
    "draft",
    "intake_link",
    "login_throttle",
    "rate_bucket",
    "result_contact",
    "result_pdf",
    "staff_invitation",
    "staff_recovery_code",
    "staff_session",
    "staff_user",
    "submission_seen",
}


def _postgres_database() -> Generator[str, None, None]:
    """A new, empty database on the TEST_DATABASE_URL server, dropped afterwards."""
    base = make_url(normalise_url(os.environ["TEST_DATABASE_URL"]))
    name = f"backaudit_migrations_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
                    reason="needs TEST_DATABASE_URL (PostgreSQL)",
                ),
            ],
        ),
    ]
)
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        yield from _postgres_database()


def schema_differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_from_empty_makes_every_table(fresh_database: str) -> None:
    assert tables(fresh_database) == set()

    engine = make_engine(fresh_database)
    upgrade(engine)
    engine.dispose()

    assert tables(fresh_database) == TABLES


def test_the_models_match_the_migrated_schema_exactly(fresh_database: str) -> None:
    engine = make_engine(fresh_database)
    upgrade(engine)
    engine.dispose()

    assert schema_differences(fresh_database) == []


def test_downgrade_to_base_removes_everything_and_upgrade_works_again(
    fresh_database: str,
) -> None:
    engine = make_engine(fresh_database)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert tables(fresh_database) == set()

        upgrade(engine)
    finally:
        engine.dispose()
    assert tables(fresh_database) == TABLES
    assert schema_differences(fresh_database) == []


def test_db_upgrade_command_migrates_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert main(["db", "upgrade"]) == 0
    finally:
        get_settings.cache_clear()

    assert "upgraded" in capsys.readouterr().out
    assert tables(url) == TABLES


def test_a_command_on_a_current_sqlite_database_does_not_wait_for_the_app_s_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        prepare(engine)  # migrates the new file
        with closing(sqlite3.connect(path)) as app:
            app.execute("BEGIN IMMEDIATE")  # the running app, in the middle of a write
            # What every command does first: with nothing to migrate it takes no write lock,
            # so it neither waits for the app (up to the 30 s busy timeout) nor fails.
            prepare(engine)
            app.rollback()
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://user:pw@db:5432/backaudit",
        "postgres://user:pw@db:5432/backaudit",
        "postgresql+psycopg://user:pw@db:5432/backaudit",
    ],
)
def test_a_plain_postgresql_url_uses_the_psycopg_driver(url: str) -> None:
    assert normalise_url(url) == "postgresql+psycopg://user:pw@db:5432/backaudit"


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="needs TEST_DATABASE_URL (PostgreSQL)",
)
def test_postgresql_compresses_json_with_lz4_and_stores_zstd_results_as_they_are() -> None:
    for url in _postgres_database():
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                has_lz4 = connection.execute(
                    text(
                        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                        " WHERE name = 'default_toast_compression'"
                    )
                ).scalar()
            if not has_lz4:
                pytest.skip("this PostgreSQL server has no lz4")

            upgrade(engine, "0002")
            assert _compression(engine) == {"answers": "l", "result": "l"}
            # A value large enough to be compressed really is written with lz4.
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO assessment (id, questionnaire_id, questionnaire_version,"
                        " answers, result, triage_level, triage_rank, complete, channel,"
                        " created_at, updated_at) VALUES (:id, 'q', '1', '{}',"
                        " CAST(:result AS jsonb), 'self_care', 0, true, 'api', now(), now())"
                    ),
                    {"id": uuid.uuid4(), "result": '{"plan": "%s"}' % ("stretch " * 4000)},
                )
                method = connection.execute(
                    text("SELECT pg_column_compression(result) FROM assessment")
                ).scalar()
            assert method == "lz4"

            # 0003: results are zstd frames already, stored out of line without compressing
            # them again; answers stay lz4-compressed jsonb.
            upgrade(engine)
            assert _compression(engine)["answers"] == "l"
            assert _storage(engine)["result"] == "e"
            with engine.connect() as connection:
                assert (
                    connection.execute(
                        text("SELECT pg_column_compression(result) FROM assessment")
                    ).scalar()
                    is None
                )

            downgrade(engine, "0002")
            assert _compression(engine) == {"answers": "l", "result": "l"}
            assert _storage(engine)["result"] == "x"  # jsonb's default again
            downgrade(engine, "0001")
            assert _compression(engine) == {"answers": "", "result": ""}
        finally:
            engine.dispose()


def test_0003_converts_every_stored_result_to_zstd_and_back(fresh_database: str) -> None:
    engine = make_engine(fresh_database)
    try:
        upgrade(engine, "0002")
        results = _store_results_at_0002(engine)

        upgrade(engine)
        assert _stored_results(engine, sa.LargeBinary()) == results
        # The app reads them all (but the integer beyond 64 bits, as a float: no answer or
        # result holds one).
        with Session(engine) as session:
            read = {row.id: row.result for row in session.exec(select(Assessment))}
        assert read.keys() == results.keys()
        assert [read[row_id] == result for row_id, result in results.items()].count(False) == 1
        assert schema_differences(fresh_database) == []

        downgrade(engine, "0002")
        assert _stored_results(engine, sa.Text()) == results
    finally:
        engine.dispose()


def test_a_failed_0003_leaves_nothing_half_done_and_can_be_run_again(
    fresh_database: str,
) -> None:
    engine = make_engine(fresh_database)
    try:
        upgrade(engine, "0002")
        results = _store_results_at_0002(engine)
        # The conversion fails half-way, in its second batch (a full disk, a kill).
        last = sorted(results)[_MIGRATION_BATCH + 3]
        with engine.begin() as connection:
            for statement in _failing_update_trigger(engine.dialect.name, last):
                connection.exec_driver_sql(statement)
        with pytest.raises(sa.exc.DBAPIError, match="stopped for the test"):
            upgrade(engine)

        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == "0002"
        assert "result_new" not in {c["name"] for c in inspect(engine).get_columns("assessment")}
        assert _stored_results(engine, sa.Text()) == results

        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER stop_0003" + _ON_TABLE[engine.dialect.name])
        upgrade(engine)
        assert _stored_results(engine, sa.LargeBinary()) == results
    finally:
        engine.dispose()


def test_a_result_stored_as_plain_json_is_still_read(fresh_database: str) -> None:
    """As a process of the older version, still running during an upgrade, writes it."""
    engine = make_engine(fresh_database)
    try:
        upgrade(engine)
        row_id = uuid.uuid4()
        with engine.begin() as connection:
            connection.execute(
                _assessment_table(sa.LargeBinary()).insert(),
                _row(row_id, b'{"triage": {"level": "self_care"}}'),
            )
        with Session(engine) as session:
            assessment = session.get(Assessment, row_id)
            assert assessment is not None
            assert dict(assessment.result) == {"triage": {"level": "self_care"}}
    finally:
        engine.dispose()


def _store_results_at_0002(engine: Engine) -> dict[uuid.UUID, dict[str, Any]]:
    """More rows than 0003 converts at a time, with texts that JSON escapes, and an integer
    beyond 64 bits; stored as 0002 stores them."""
    results: dict[uuid.UUID, dict[str, Any]] = {
        uuid.uuid4(): {
            "triage": {"level": "self_care", "reasons": []},
            "plan": {"advice": [f'Walk {n} minutes \u2013 \u00e9t\u00e9 "quoted"\n']},
            "n": n,
        }
        for n in range(_MIGRATION_BATCH + 7)
    }
    results[uuid.uuid4()] = {"n": 123456789012345678901234567890}
    with engine.begin() as connection:
        connection.execute(
            _assessment_table(JSONType).insert(),
            [_row(row_id, result) for row_id, result in results.items()],
        )
    return results


def _stored_results(engine: Engine, stored_as: Any) -> dict[uuid.UUID, Any]:
    """Every row's result as stored: a zstd frame (read as bytes) or JSON (read as text),
    parsed by the standard library, which keeps integers of any size exact."""
    table = _assessment_table(stored_as)
    column: Any = table.c.result
    if isinstance(stored_as, sa.Text):
        column = sa.cast(column, sa.Text())
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table.c.id, column)).all()
    if isinstance(stored_as, sa.LargeBinary):
        assert all(value[:4] == ZSTD_MAGIC for _, value in rows)
        return {row_id: json.loads(zstandard.decompress(value)) for row_id, value in rows}
    return {row_id: json.loads(value) for row_id, value in rows}


_ON_TABLE = {"postgresql": " ON assessment", "sqlite": ""}


def _failing_update_trigger(dialect: str, row_id: uuid.UUID) -> list[str]:
    if dialect == "sqlite":
        return [
            "CREATE TRIGGER stop_0003 BEFORE UPDATE ON assessment"
            f" WHEN OLD.id = '{row_id.hex}' BEGIN SELECT RAISE(ABORT, 'stopped for the test'); END"
        ]
    return [
        "CREATE FUNCTION stop_0003() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF OLD.id = '{row_id}' THEN RAISE EXCEPTION 'stopped for the test'; END IF;"
        " RETURN NEW; END $$",
        "CREATE TRIGGER stop_0003 BEFORE UPDATE ON assessment FOR EACH ROW"
        " EXECUTE FUNCTION stop_0003()",
    ]


_MIGRATION_BATCH = 500  # rows that 0003 converts at a time
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _assessment_table(result_type: Any) -> sa.TableClause:
    """The assessment table as 0002 left it (only the columns a row needs)."""
    return sa.table(
        "assessment",
        sa.column("id", sa.Uuid()),
        sa.column("questionnaire_id", sa.String()),
        sa.column("questionnaire_version", sa.String()),
        sa.column("answers", JSONType),
        sa.column("result", result_type),
        sa.column("triage_level", sa.String()),
        sa.column("triage_rank", sa.Integer()),
        sa.column("complete", sa.Boolean()),
        sa.column("channel", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )


def _row(row_id: uuid.UUID, result: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": row_id,
        "questionnaire_id": "low-back-audit",
        "questionnaire_version": "1.0.0",
        "answers": {"age": 40},
        "result": result,
        "triage_level": "self_care",
        "triage_rank": 4,
        "complete": True,
        "channel": "api",
        "created_at": now,
        "updated_at": now,
    }


def _storage(engine: Engine) -> dict[str, str]:
    return _json_columns(engine, "attstorage")


def _compression(engine: Engine) -> dict[str, str]:
    return _json_columns(engine, "attcompression")


def _json_columns(engine: Engine, setting: str) -> dict[str, str]:
    """A pg_attribute setting of the assessment's answers and result columns."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT attname, {setting} AS value FROM pg_attribute"
                " WHERE attrelid = 'assessment'::regclass AND attname IN ('answers', 'result')"
            )
        )
        return {row.attname: row.value for row in rows}


def test_0009_keeps_the_open_sessions_last_seen_when_they_began(fresh_database: str) -> None:
    """Clinics and sessions made before the second factor: the clinics ask nothing more of
    clinicians, and each open session was last seen when it began (its idle time counts from
    there). Undone and done again cleanly."""
    engine = make_engine(fresh_database)
    began = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    clinic_id, user_id = uuid.uuid4(), uuid.uuid4()
    try:
        upgrade(engine, "0008")
        with engine.begin() as connection:
            rows = {
                "clinic": {"id": clinic_id, "name": "Riverside", "created_at": began},
                "staff_user": {"id": user_id, "clinic_id": clinic_id, "email": "a@r.example",
                               "role": "admin", "created_at": began},
                "staff_session": {"id": uuid.uuid4(), "token_hash": "t" * 64,
                                  "user_id": user_id, "csrf_token": "c", "created_at": began,
                                  "expires_at": began},
            }  # fmt: skip
            for name, row in rows.items():
                columns = (sa.column(key, _column_type(value)) for key, value in row.items())
                connection.execute(sa.table(name, *columns).insert(), row)
        upgrade(engine)
        with engine.connect() as connection:
            assert connection.execute(
                text("SELECT require_2fa_for_clinicians FROM clinic")
            ).scalar() in (False, 0)
            seen = connection.execute(text("SELECT last_seen_at FROM staff_session")).scalar()
        assert seen is not None
        assert str(seen).startswith("2026-12-07 08:00:00")
        downgrade(engine, "0008")
        upgrade(engine)
    finally:
        engine.dispose()
    assert schema_differences(fresh_database) == []


def _column_type(value: object) -> Any:
    if isinstance(value, uuid.UUID):
        return sa.Uuid()
    if isinstance(value, datetime):
        return sa.DateTime(timezone=True)
    return sa.String()


def test_0017_gives_the_records_from_before_languages_english(fresh_database: str) -> None:
    """Records stored before 0017 read as English; a clinic has no intake language until an
    admin sets one; and 0017 undoes cleanly."""
    from app.column_types import CompressedJSON
    from app.models import Clinic, ResultContact

    engine = make_engine(fresh_database)
    try:
        upgrade(engine, "0016")
        clinic_id, assessment_id = uuid.uuid4(), uuid.uuid4()
        now = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)
        assessment = sa.table(
            "assessment",
            sa.column("id", sa.Uuid()),
            *(sa.column(name) for name in ("questionnaire_id", "questionnaire_version")),
            *(sa.column(name) for name in ("triage_level", "triage_rank", "complete", "channel")),
            sa.column("answers", JSONType),
            sa.column("result", CompressedJSON()),
            sa.column("created_at", sa.DateTime(timezone=True)),
            sa.column("updated_at", sa.DateTime(timezone=True)),
        )
        with engine.begin() as connection:
            connection.execute(
                sa.table(
                    "clinic",
                    sa.column("id", sa.Uuid()),
                    sa.column("name"),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                )
                .insert()
                .values(id=clinic_id, name="Riverside", created_at=now)
            )
            connection.execute(
                assessment.insert().values(
                    id=assessment_id,
                    questionnaire_id="low-back-audit",
                    questionnaire_version="2.1.0",
                    triage_level="self_care",
                    triage_rank=3,
                    complete=True,
                    channel="web",
                    answers={},
                    result={"triage": {}},
                    created_at=now,
                    updated_at=now,
                )
            )
            connection.execute(
                sa.table(
                    "result_contact",
                    sa.column("assessment_id", sa.Uuid()),
                    *(sa.column(n) for n in ("email", "reminders", "unsubscribe_id")),
                    *(sa.column(n) for n in ("link_attempts", "reminder_attempts")),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                )
                .insert()
                .values(
                    assessment_id=assessment_id,
                    email="zoe@example.com",
                    reminders=True,
                    unsubscribe_id="u1",
                    link_attempts=0,
                    reminder_attempts=0,
                    created_at=now,
                )
            )

        upgrade(engine)
        with Session(engine) as session:
            assert session.get_one(Assessment, assessment_id).language == "en"
            assert session.get_one(ResultContact, assessment_id).language == "en"
            assert session.get_one(Clinic, clinic_id).intake_language is None
        assert schema_differences(fresh_database) == []

        downgrade(engine, "0016")
        columns = {c["name"] for c in inspect(engine).get_columns("assessment")}
        assert "language" not in columns
        assert "intake_language" not in {c["name"] for c in inspect(engine).get_columns("clinic")}
    finally:
        engine.dispose()
