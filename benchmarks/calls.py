"""Python function calls a request: the work a request does, counted, which a noisy machine
does not change (benchmarks/api.py's seconds do, by up to 2x between runs on a shared VM).

    .venv/bin/python benchmarks/calls.py

For /healthz, a question page (a draft answered to the end), the result page (self-care with its
plan), an assessment POST and a check-in POST (each to another stored result): the app as
served (production settings, a fresh SQLite file, rate limits off), driven in-process through
its ASGI interface, warmed up, then 50 requests of each under cProfile. Prints the calls a
request and the CPU time a request without the profiler (the median of 7 batches: a guide
only). Compare two builds by running it in each checkout.
"""

from __future__ import annotations

import asyncio
import cProfile
import itertools
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402
from throwaway_app import throwaway_app  # noqa: E402

from app.api.examples import EXAMPLE_ANSWERS  # noqa: E402
from app.engine import evaluate  # noqa: E402
from app.services import assessments, drafts  # noqa: E402
from app.services.api_keys import create_api_key  # noqa: E402

PROFILED = 50
CHECKIN_RESULTS = 500  # each gets at most one check-in of the 140 posted
UNLIMITED = {
    "RATE_LIMIT_API_KEY_PER_MINUTE": "0",
    "RATE_LIMIT_API_ADDRESS_PER_MINUTE": "0",
    "RATE_LIMIT_SUBMISSIONS_PER_HOUR": "0",
}

Send = Callable[[], Awaitable[int]]


async def call(app: Any, method: str, path: str, body: bytes = b"", **headers: str) -> int:
    """One request through the app's ASGI interface; its status."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 5000), "server": ("testserver", 443),
        "headers": [(b"host", b"testserver"), (b"content-length", str(len(body)).encode()),
                    *((k.replace("_", "-").encode(), v.encode()) for k, v in headers.items())],
    }  # fmt: skip
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the client is still there
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def requests(app: Any) -> dict[str, tuple[Send, int]]:
    """Each request measured, as a coroutine function, with the status it must answer."""
    q = app.state.registry.default
    with Session(app.state.engine) as session:
        client, key = create_api_key(session=session, name="benchmark")
        draft, draft_token = drafts.start_draft(session, questionnaire_id=q.id, channel="web")
        drafts.save_answers(session, draft, EXAMPLE_ANSWERS)
        web = assessments.record(session, evaluate(q, EXAMPLE_ANSWERS), channel="web")
        followed = [
            assessments.record(
                session, evaluate(q, EXAMPLE_ANSWERS), channel="api", api_client_id=client.id
            ).id
            for _ in range(CHECKIN_RESULTS)
        ]
        session.commit()
    from api import checkin_answers  # the API benchmark's check-ins, each new

    api = {"authorization": f"Bearer {key}", "content_type": "application/json"}
    assessment = json.dumps({"answers": EXAMPLE_ANSWERS}).encode()
    numbers = itertools.count()

    async def checkin() -> int:
        n = next(numbers)
        body = json.dumps({"answers": checkin_answers(n)}).encode()
        path = f"/api/v1/assessments/{followed[n % len(followed)]}/checkins"
        return await call(app, "POST", path, body, **api)

    return {
        "GET /healthz": (lambda: call(app, "GET", "/healthz"), 200),
        "GET /questions/height_weight": (
            lambda: call(app, "GET", "/questions/height_weight", cookie=f"ba_draft={draft_token}"),
            200,
        ),
        "GET /result/<token>": (lambda: call(app, "GET", f"/result/{web.result_token}"), 200),
        "POST /api/v1/assessments": (
            lambda: call(app, "POST", "/api/v1/assessments", assessment, **api),
            201,
        ),
        "POST .../checkins": (checkin, 201),
    }


async def measure(app: Any) -> list[tuple[str, float, float]]:
    rows = []
    async with app.router.lifespan_context(app):
        for name, (send, expected) in requests(app).items():
            for _ in range(20):  # warm: the first requests build what the app keeps
                status = await send()
                assert status == expected, f"{name}: {status}"
            batches = []
            for _ in range(7):
                started = time.process_time()
                for _ in range(10):
                    await send()
                batches.append((time.process_time() - started) * 100)  # ms a request
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(PROFILED):
                await send()
            profile.disable()
            calls = pstats.Stats(profile).total_calls / PROFILED  # type: ignore[attr-defined]
            rows.append((name, calls, statistics.median(batches)))
    return rows


def main() -> int:
    os.environ.update(UNLIMITED)
    with tempfile.TemporaryDirectory(prefix="backaudit-calls-") as folder:
        rows = asyncio.run(measure(throwaway_app(Path(folder), environment="production")))
    print(f"{'request':<30} {'Python calls':>12} {'CPU ms (guide)':>15}")
    for name, calls, cpu_ms in rows:
        print(f"{name:<30} {calls:>12,.0f} {cpu_ms:>15.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
