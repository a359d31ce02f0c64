"""Patient pages stay small on a phone's connection: under 30 KB transferred for a first visit
(the page, its stylesheet, script and pictures, gzipped as a browser asks for them, headers
included). benchmarks/pages.py prints the same numbers for every page."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.fixtures import record_assessment
from tests.web.helpers import run_interview, self_care_answers

BUDGET = 30 * 1024
# What a page makes the browser fetch (favicons aside: once per site, not per page).
FETCHED = re.compile(r'<(?:link rel="stylesheet" href|script src|img[^>]*? src)="([^"]+)"')


def transferred(response: httpx.Response) -> int:
    """Bytes on the wire: the status line, the headers and the (compressed) body."""
    head = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n\r\n")
    head += sum(len(name) + len(value) + 4 for name, value in response.headers.raw)
    return head + response.num_bytes_downloaded


def first_visit(client: TestClient, path: str) -> tuple[int, int]:
    """(bytes transferred, uncompressed bytes) for the page and everything it fetches."""
    page = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200, path
    wire, plain = transferred(page), len(page.content)
    for url in dict.fromkeys(FETCHED.findall(page.text)):
        asset = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert asset.status_code == 200, url
        wire, plain = wire + transferred(asset), plain + len(asset.content)
    return wire, plain


# The pseudo-locale is a stress, not a language: every letter accented (two bytes, and less
# compressible) and every text 40% longer. It may take a tenth more; a real language may not.
BUDGETS = {"en": BUDGET, "pl": BUDGET, "en-XA": BUDGET * 11 // 10}


@pytest.mark.parametrize("page", ["question", "self-care result"])
@pytest.mark.parametrize("language", list(BUDGETS))
def test_a_patient_page_is_under_30_kb_transferred(
    app: FastAPI, client: TestClient, db: Session, page: str, language: str
) -> None:
    if language not in {lang.code for lang in app.state.languages}:
        pytest.skip(f"{language} is not offered here (its catalog or its texts are missing)")
    client.cookies.set("lang", language)
    if page == "question":
        run_interview(client, self_care_answers(), until="/questions/height_weight")
        path = "/questions/height_weight"
    else:
        q = app.state.registry.default
        recorded = record_assessment(db, q, self_care_answers(), channel="web")
        db.commit()
        path = f"/result/{recorded.result_token}"
    wire, plain = first_visit(client, path)
    print(f"{page} ({language}): {wire} bytes transferred ({plain} uncompressed)")
    assert wire < BUDGETS[language], f"{page}: {wire} bytes transferred"
    assert wire < plain / 2, "compressed"
