"""Fixtures shared by every test: a real, migrated database and the app on top of it.

Tests run on SQLite always, and on PostgreSQL when TEST_DATABASE_URL is set (CI sets it).
The schema comes from the Alembic migrations, exactly as in production. Every table is emptied
after each test that used the database, so tests never see each other's data.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import Database, Http, Limits, Settings
from app.db import make_engine, normalise_url
from app.main import create_app
from app.migrate import downgrade, upgrade
from app.models import Clinic, metadata
from app.services import accounts, clinics, pdf
from app.services.questionnaires import DEFAULT_QUESTIONNAIRE, Registry
from tests.fixtures import TestClock

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
QUESTIONNAIRES = Path(__file__).resolve().parent.parent / "questionnaires"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass (TEST_DATABASE_URL set), only the tests that touch the database
    run: those that use it through the fixtures below (all of them read ``database_url``), and
    those marked ``postgres``, but not those marked ``database_agnostic``. The others ran on
    SQLite already and would say the same again."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    kept: list[pytest.Item] = []
    skipped: list[pytest.Item] = []
    for item in items:
        names = getattr(item, "fixturenames", ())
        touches = "database_url" in names or item.get_closest_marker("postgres") is not None
        if item.get_closest_marker("database_agnostic") is not None:
            touches = False
        (kept if touches else skipped).append(item)
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = kept


# The app's own hasher (Argon2id, the library's recommended parameters: about 0.3 s a hash
# here), kept for the test that checks it; the tests' hasher is cheap (see below).
APP_PASSWORD_HASHER = accounts._hasher


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    """Argon2id with the least work it allows, in this test process: every staff test signs
    in, and at the app's parameters the hashes alone took minutes of the suite. The hashes are
    still real Argon2id (checked, rehashed and refused as in the app); servers that tests start
    as processes of their own keep the app's parameters."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
        accounts._dummy_hash.cache_clear()
        yield
    accounts._dummy_hash.cache_clear()


_LOADED: dict[tuple[object, ...], Registry] = {}


@pytest.fixture(scope="session", autouse=True)
def _questionnaires_loaded_once() -> Iterator[None]:
    """Loading the definitions validates every version of every questionnaire: about 0.2 s,
    more than most tests take, and every app a test makes loads them. The same files (same
    names, sizes and times) with the same help lines give the same Registry, so each process
    loads them once; a test that writes a definition of its own still gets it checked."""
    real = Registry.load.__func__  # type: ignore[attr-defined]

    def load(
        cls: type[Registry],
        directory: Path,
        default_id: str,
        help_lines: Mapping[str, str] | None = None,
        *,
        offer_draft: bool = False,
        pseudo_locale: bool = False,
    ) -> Registry:
        files = sorted(
            (f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in Path(directory).glob("*")
        )
        key = (
            str(directory),
            tuple(files),
            default_id,
            tuple(sorted((help_lines or {}).items())),
            offer_draft,
            pseudo_locale,
        )
        if key not in _LOADED:
            _LOADED[key] = real(
                cls,
                directory,
                default_id,
                help_lines,
                offer_draft=offer_draft,
                pseudo_locale=pseudo_locale,
            )
        return _LOADED[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Registry, "load", classmethod(load))
        yield


@pytest.fixture(scope="session")
def registry() -> Registry:
    """Every questionnaire as the app loads them, with the default help lines in the texts:
    the same object as a test app's ``app.state.registry`` (loaded once, above)."""
    settings = Settings(environment="test", secret_key=TEST_SECRET)
    drafts, pseudo_locale = settings.languages.offered(settings.environment)
    return Registry.load(
        QUESTIONNAIRES,
        DEFAULT_QUESTIONNAIRE,
        settings.help_lines.placeholders(),
        offer_draft=drafts,
        pseudo_locale=pseudo_locale,
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return _worker_database(url, os.environ.get("PYTEST_XDIST_WORKER", ""))
    # Each pytest-xdist worker has its own temporary directory, so its own SQLite file.
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _worker_database(url: str, worker_id: str) -> str:
    """The PostgreSQL database for this test process: TEST_DATABASE_URL's own when the tests run
    in one process; under pytest-xdist (``-n``), one per worker beside it (``test_gw0``, ...),
    created when missing, because the workers empty tables under each other's feet otherwise."""
    if not worker_id:
        return url
    base = make_url(normalise_url(url))
    name = f"{base.database}_{worker_id}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        # Start from empty, whatever an earlier run left behind.
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    if engine.dialect.name == "postgresql":
        downgrade(engine, "base")
    engine.dispose()


def empty_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session on the test database; every table is emptied afterwards."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
    empty_tables(engine)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,
        questionnaires_dir=QUESTIONNAIRES,
        database=Database(url=database_url),
        # The test clients' host names (Starlette's TestClient, schemathesis).
        http=Http(allowed_hosts="testserver,localhost"),
        # Every test client shares one address and one clock that hardly moves: the rate limits
        # are tested with their own low values (tests/*/test_rate_limits.py).
        limits=Limits(
            api_key_per_minute=100_000,
            api_address_per_minute=100_000,
            submissions_per_hour=100_000,
            staff_invites_per_hour=100_000,
        ),
    )


@pytest.fixture
def clock() -> TestClock:
    """The app's clock: the real time until the test moves it (``clock.advance``, ``clock.set``)."""
    return TestClock()


def lifespan_once(app: FastAPI) -> None:
    """Tests open several TestClients on one app, and each runs the app's lifespan; a server
    runs it once. So here only the first client to open runs it: a second one's end would
    dispose of the engine while the first's alert sender still held a connection, which then
    outlived its pool unclosed (a ResourceWarning, failing whichever test the garbage
    collector happened to run in)."""
    inner: Any = app.router.lifespan_context
    running = 0

    @asynccontextmanager
    async def once(application: FastAPI) -> AsyncIterator[None]:
        nonlocal running
        running += 1
        try:
            if running == 1:
                async with inner(application):
                    yield
            else:
                yield
        finally:
            running -= 1

    app.router.lifespan_context = once


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: TestClock) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock)
    lifespan_once(application)
    yield application
    application.state.engine.dispose()
    empty_tables(engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def clinic(db: Session) -> Clinic:
    """A clinic, for the staff pages and the intake links (tests/staff adds a second one)."""
    created = clinics.create_clinic(db, name="Riverside Physio")
    db.commit()
    return created


@pytest.fixture
def pdfs() -> None:
    """Skips a test that makes a PDF where WeasyPrint cannot load (its system libraries are
    missing: README, "Keeping the result"). tests/web/test_result_page.py tests the app's answer
    there."""
    try:
        pdf._weasyprint()
    except pdf.PdfUnavailableError:
        pytest.skip("WeasyPrint cannot load here (Pango missing?): no PDF can be made")
