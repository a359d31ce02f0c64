"""No answers in logs, ever: not from requests, problems, or database errors."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import make_engine

from .conftest import Key


def test_requests_with_answers_log_no_answer_or_question_id(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    marker_number = 6.123457
    marker_text = "zebra-crossing-7731"
    answers = complete_answers | {"sleep_hours": marker_number}

    client.post("/api/v1/assessments", json={"answers": answers}, headers=api_key.headers)
    client.post(
        "/api/v1/assessments",
        json={"answers": answers | {"onset": marker_text, "secret_question_id": 1}},
        headers=api_key.headers,
    )
    client.post(
        "/api/v1/questionnaires/low-back-audit/next",
        json={"answers": {"age": marker_text}},
    )
    client.post(
        "/api/v1/assessments",
        content=f'{{"answers": {{"age": "{marker_text}"',
        headers={**api_key.headers, "Content-Type": "application/json"},
    )

    assert caplog.records  # the request log did run
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    for secret in (str(marker_number), marker_text, "secret_question_id", api_key.key):
        assert secret not in logged


def test_database_errors_never_carry_the_values_sent(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert engine.hide_parameters is True
    finally:
        engine.dispose()
