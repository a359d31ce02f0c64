"""GET /healthz, when the database is there and when it is not."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.support.settings import settings_with


def test_health_is_ok_with_a_reachable_database(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_health_is_a_503_when_the_database_cannot_be_reached(
    settings: Settings, tmp_path: Path
) -> None:
    unreachable = settings_with(
        settings, database={"url": f"sqlite:///{tmp_path}/no/such/folder/db.sqlite"}
    )
    app = create_app(unreachable)

    with TestClient(app) as client:
        response = client.get("/healthz")

    app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
