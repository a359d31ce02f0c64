"""Page weight and rendering speed of the patient pages.

For each page people see (start, a question page, check answers, and the result at every
triage level, self-care with its exercise plan), prints the total bytes a first visit loads:
the HTML plus every stylesheet, script and image it references (the exercise illustrations
included; favicons are not counted, a browser fetches one once per site), uncompressed and as
transferred (gzip where the site compresses, headers included). Fails if any reference leaves
the site (no third-party requests) or a page is over either budget. Then compares how many question pages the app renders per second
with a trivial endpoint in the same process.

    .venv/bin/python benchmarks/pages.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from throwaway_app import throwaway_app  # noqa: E402

from app.api.examples import EXAMPLE_ANSWERS, SAFETY_ALL_NO  # noqa: E402
from app.engine import evaluate  # noqa: E402
from app.services import assessments, drafts  # noqa: E402

BUDGET = 60 * 1024
TRANSFER_BUDGET = 30 * 1024
ORIGIN = "http://testserver"


class References(HTMLParser):
    """The URLs a browser fetches for a page: stylesheets, scripts, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("href") and "icon" not in (found.get("rel") or ""):
            self.urls.append(found["href"] or "")
        elif tag == "img" and found.get("loading") == "lazy":
            # Not loaded on a first visit: the result's exercise pictures wait, folded away,
            # until "How to do it" is opened (tests/browser/test_result_page.py checks).
            return
        elif tag in ("script", "img", "source", "iframe", "embed") and found.get("src"):
            self.urls.append(found["src"] or "")
        elif tag == "object" and found.get("data"):
            self.urls.append(found["data"] or "")


def same_origin(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return f"{parts.scheme}://{parts.netloc}" == ORIGIN
    return url.startswith("/") and not url.startswith("//")


def transferred(response: Any) -> int:
    """Bytes on the wire: the status line, the headers and the (compressed) body."""
    head = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n\r\n")
    head += sum(len(name) + len(value) + 4 for name, value in response.headers.raw)
    return head + int(response.num_bytes_downloaded)


def page_weight(client: TestClient, path: str) -> tuple[int, int, int, list[str]]:
    """(total bytes, bytes transferred, number of files, references to other sites)."""
    gzip = {"Accept-Encoding": "gzip"}
    response = client.get(path, headers=gzip)
    assert response.status_code == 200, (path, response.status_code)
    parser = References()
    parser.feed(response.text)
    total, wire, files, foreign = len(response.content), transferred(response), 1, []
    for url in dict.fromkeys(parser.urls):
        if not same_origin(url):
            foreign.append(url)
            continue
        asset = client.get(url, headers=gzip)
        assert asset.status_code == 200, (url, asset.status_code)
        total += len(asset.content)
        wire += transferred(asset)
        files += 1
    return total, wire, files, foreign


def with_draft(client: TestClient, app: Any, answers: dict[str, Any]) -> None:
    q = app.state.registry.default
    with Session(app.state.engine) as session:
        draft, token = drafts.start_draft(session, questionnaire_id=q.id, channel="web")
        drafts.save_answers(session, draft, answers)
        session.commit()
    client.cookies.set("ba_draft", token)


def result_path(app: Any, answers: dict[str, Any]) -> str:
    q = app.state.registry.default
    with Session(app.state.engine) as session:
        recorded = assessments.record(
            session, evaluate(q, answers), channel="web", allow_incomplete=True
        )
        session.commit()
    return f"/result/{recorded.result_token}"


def rate(client: TestClient, path: str, seconds: float) -> float:
    for _ in range(20):  # warm up
        client.get(path)
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        assert client.get(path).status_code == 200
        count += 1
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per speed measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        app = throwaway_app(Path(folder))
        app.add_api_route("/_benchmark/trivial", lambda: PlainTextResponse("ok"))

        with TestClient(app) as client:
            with_draft(client, app, dict(EXAMPLE_ANSWERS))
            pages = {
                "start": "/",
                "question page (radios)": "/questions/emergency_signs",
                "question page (height and weight)": "/questions/height_weight",
                "check answers": "/check",
                "result: emergency": result_path(app, {**SAFETY_ALL_NO, "chest_pain": True}),
                "result: urgent": result_path(app, {**EXAMPLE_ANSWERS, "fever": True}),
                "result: see a doctor": result_path(app, {**EXAMPLE_ANSWERS, "pregnant": True}),
                "result: self-care with plan": result_path(app, dict(EXAMPLE_ANSWERS)),
            }
            failed = False
            print(
                f"{'page':<36} {'files':>5} {'bytes':>8} {'gzipped':>8}"
                f"  (budgets {BUDGET // 1024} KB and {TRANSFER_BUDGET // 1024} KB transferred)"
            )
            for name, path in pages.items():
                total, wire, files, foreign = page_weight(client, path)
                flag = ""
                if total > BUDGET or wire > TRANSFER_BUDGET:
                    flag, failed = "  OVER BUDGET", True
                if foreign:
                    flag, failed = f"  THIRD-PARTY: {foreign}", True
                print(f"{name:<36} {files:>5} {total:>8} {wire:>8}{flag}")
            print("every referenced URL is same-origin" if not failed else "FAILED")

            question = rate(client, "/questions/height_weight", args.seconds)
            trivial = rate(client, "/_benchmark/trivial", args.seconds)
            print()
            print(f"question page (draft lookup, engine, template): {question:8.0f} requests/s")
            print(f"trivial endpoint:                              {trivial:8.0f} requests/s")
            print(f"ratio question page / trivial:                 {question / trivial:8.2f}")
        app.state.engine.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
