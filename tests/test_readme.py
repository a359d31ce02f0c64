"""The README's curl examples work: each ```sh block of its JSON API section that runs curl is
run by bash, as written, against a real server (uvicorn on a free port), and gives the status
its first line promises (``# → 201``; ``# → 201 until DATE, then 422`` for a pinned version).

curl is pointed at the test server by a ``.curlrc`` (``connect-to``), so the blocks run
unchanged: their URLs, and the canonical URL inside the FHIR example, stay the README's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import Settings
from app.main import create_app
from app.services.api_keys import create_api_key
from tests.fixtures import TestClock
from tests.support.network import free_port
from tests.support.settings import settings_with

README = Path(__file__).resolve().parent.parent / "README.md"
PROMISE = re.compile(r"^# → (\d{3})(?: until (\d{4}-\d{2}-\d{2}), then (\d{3}))?")


def curl_blocks() -> list[str]:
    api = README.read_text().split("\n## JSON API", 1)[1]
    blocks = re.findall(r"```sh\n(.*?)```", api, flags=re.DOTALL)
    return [block for block in blocks if "curl " in block]


def promised_status(block: str, today: date) -> int:
    match = PROMISE.match(block)
    assert match, f"a curl example says what it gives on its first line: {block[:80]}"
    first, until, then = match.groups()
    if until is not None and today > date.fromisoformat(until):
        return int(then)
    return int(first)


@pytest.fixture
def server(settings: Settings, engine: Engine, clock: TestClock) -> Iterator[int]:
    """The app on a free port, taking the README's host (127.0.0.1:8000, curl's Host header),
    with the test's clock: what a pinned version gives depends on the day."""
    app = create_app(settings_with(settings, http={"allowed_hosts": "127.0.0.1"}), clock=clock)
    port = free_port()
    served = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=served.run, name="readme-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not served.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield port
    served.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


def last_days() -> list[date]:
    """The days the examples' ``until`` names (the README has one: a pinned version's)."""
    return sorted(
        {
            date.fromisoformat(d)
            for d in re.findall(r"^# → \d{3} until (\S+),", "\n".join(curl_blocks()), re.M)
        }
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
@pytest.mark.parametrize("after", [0, 1], ids=["on_the_last_day", "the_day_after"])
def test_the_readmes_curl_examples_give_what_they_promise(
    server: int, db: Session, tmp_path: Path, clock: TestClock, after: int
) -> None:
    (last_day,) = last_days()
    today = last_day + timedelta(days=after)
    clock.set(datetime.combine(today, clock_time(12), tzinfo=UTC))
    _, key = create_api_key(session=db, name="readme")
    db.commit()
    (tmp_path / ".curlrc").write_text(
        f'connect-to = 127.0.0.1:8000:127.0.0.1:{server}\nwrite-out = "\\n%{{http_code}}"\n'
    )
    env = {**os.environ, "CURL_HOME": str(tmp_path), "HOME": str(tmp_path), "BACKAUDIT_KEY": key}
    blocks = curl_blocks()
    assert len(blocks) >= 5  # JSON, a pinned version, a removed id, FHIR in and out

    for block in blocks:
        ran = subprocess.run(
            ["bash", "-c", block], env=env, capture_output=True, text=True, timeout=30, check=False
        )
        assert ran.returncode == 0, ran.stderr
        status = int(ran.stdout.rsplit("\n", 1)[-1])
        assert status == promised_status(block, today), (block, ran.stdout[:500])
