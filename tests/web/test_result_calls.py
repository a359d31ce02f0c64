"""The result page and its PDF read what they show in one database call each
(app/services/result_link.py): on PostgreSQL every call is a hop to the thread pool."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.support.db_calls import db_calls
from tests.web.test_result_page import SELF_CARE, stored_result


@pytest.mark.parametrize("query", ["", "?kept=sent#keep-title", "?contact=given"])
def test_the_result_page_is_read_in_one_call(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    url = stored_result(app, db, SELF_CARE)
    with db_calls(monkeypatch) as called:
        assert client.get(url + query).status_code == 200
    assert called == ["open_page"]


def test_an_unknown_result_link_is_a_404_after_one_call(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db_calls(monkeypatch) as called:
        assert client.get("/result/" + "x" * 43).status_code == 404
    assert called == ["open_page"]


def test_a_kept_pdf_is_read_in_two_calls_the_result_and_the_kept_document(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its key is worked out from the page's HTML, which needs the result first."""
    url = stored_result(app, db, SELF_CARE)
    first = client.get(url + "/pdf")
    if first.status_code == 503:
        pytest.skip("no PDF renderer here")
    with db_calls(monkeypatch) as called:
        again = client.get(url + "/pdf")
    assert again.content == first.content
    assert called == ["open_record", "stored"]
