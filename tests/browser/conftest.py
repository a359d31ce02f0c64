"""Browser tests: the real app served by uvicorn on a free local port, driven by headless
Chromium through Playwright. Reusable by every browser test (patient pages and staff pages):

- ``live_server``: the running app (``url``, ``app``, ``engine``, ``settings``, ``session()``),
  on its own freshly migrated SQLite file; one per test session.
- ``browser``: Chromium (the system's /usr/bin/chromium; the tests skip without it).
- ``page``: a fresh context and page at desktop size; ``new_page(width=..., **options)`` for
  more (phone widths, ``java_script_enabled=False``). Every page checks when it closes that the
  browser saw no Content-Security-Policy violation and asked nothing of any other site.
- ``axe_check(page)``: runs axe-core on the page and fails on serious or critical violations
  (not in a page with JavaScript off: axe's timers never fire there, so it says so at once).
- ``screenshot(page, name)``: a full-page PNG in test-artifacts/screenshots/.
- ``PatientForm(page)``: fills the patient form from a dict of answers, page by page, the way a
  person does (the server decides which page comes next).

Playwright drives the system Chromium: never run ``playwright install``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import Database, Settings
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 740}
SMALL_PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class LiveServer:
    url: str
    app: FastAPI
    engine: Engine
    settings: Settings

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(
        environment="test",
        database=Database(url=database_url),
        secret_key=TEST_SECRET,
        questionnaires_dir=ROOT / "questionnaires",
    )
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", app, engine, settings)
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Pages made with java_script_enabled=False: axe cannot run in them (its timers never fire, so
# axe_check would wait for ever); check the same page in a page with JavaScript on instead.
SCRIPTLESS: weakref.WeakSet[Any] = weakref.WeakSet()


@dataclass
class Watch:
    """What a page did that it should not: CSP violations, requests to other sites."""

    origin: str
    csp_violations: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def on_request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign_requests.append(request.url)


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    contexts: list[tuple[Any, Watch]] = []

    def make(width: int = DESKTOP["width"], height: int | None = None, **options: Any) -> Any:
        context = browser.new_context(
            viewport={
                "width": width,
                "height": height or (PHONE if width < 641 else DESKTOP)["height"],
            },
            base_url=live_server.url,
            **options,
        )
        context.set_default_timeout(10_000)
        watch = Watch(live_server.url)
        contexts.append((context, watch))
        page = context.new_page()
        if options.get("java_script_enabled") is False:
            SCRIPTLESS.add(page)
        page.on("console", watch.on_console)
        page.on("request", watch.on_request)
        return page

    yield make
    problems = []
    for context, watch in contexts:
        context.close()
        problems += watch.csp_violations + [
            f"request to another site: {u}" for u in watch.foreign_requests
        ]
    assert not problems, problems


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


@pytest.fixture
def axe_check() -> Callable[..., list[dict[str, Any]]]:
    """``axe_check(page)``: every violation axe-core finds, failing on serious and critical ones.

    axe is evaluated through the DevTools protocol (page.evaluate), which the page's CSP does
    not govern, so pages are checked exactly as served."""
    if not AXE.exists():
        pytest.skip("accessibility checks need axe-core: run `npm ci` in the project folder")
    source = AXE.read_text(encoding="utf-8")

    def check(page: Any, *, name: str | None = None) -> list[dict[str, Any]]:
        assert page not in SCRIPTLESS, (
            "axe cannot run in a page with JavaScript off: open the page in one with it on"
        )
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(source)
        violations: list[dict[str, Any]] = page.evaluate(
            """() => axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
                resultTypes: ["violations"],
            }).then(r => r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
            })))"""
        )
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, f"axe found serious problems on {name or page.url}:\n" + json.dumps(
            serious, indent=2
        )
        return violations

    return check


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def screenshot(screenshot_dir: Path) -> Callable[[Any, str], Path]:
    def take(page: Any, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


class PatientForm:
    """Answers the patient form in a browser from a dict of answers keyed by question id."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def fill(self, answers: dict[str, Any]) -> None:
        """Fill in every question on the current page that ``answers`` has."""
        fields = self.page.eval_on_selector_all(
            "main form[method=post] input:not([type=hidden])",
            "els => els.map(e => [e.name, e.type])",
        )
        for name in dict.fromkeys(n for n, _ in fields):
            kind = next(t for n, t in fields if n == name)
            if name not in answers:
                continue
            value = answers[name]
            if kind == "radio":
                shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
                self.page.check(f'input[name="{name}"][value="{shown}"]')
            elif kind == "checkbox":
                for code in value:
                    self.page.check(f'input[name="{name}"][value="{code}"]')
            else:
                self.page.fill(f'input[name="{name}"]', str(value))

    def submit(self, button: str = "Continue") -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button).click()

    def answer_page(self, answers: dict[str, Any]) -> None:
        self.fill(answers)
        self.submit()

    def run(
        self, answers: dict[str, Any], *, on_advice: str = "continue", until: str | None = None
    ) -> list[str]:
        """Answer pages until the result (or a URL containing ``until``); the paths visited."""
        visited: list[str] = []
        for _ in range(60):
            path = urlsplit(self.page.url).path
            visited.append(path)
            result = path.startswith("/result/") and "/change" not in path
            if result or (until and until in self.page.url):
                return visited
            if path.endswith("/advice"):
                if on_advice == "stop":
                    # The page's first button: its words depend on the level.
                    with self.page.expect_navigation():
                        self.page.locator('main form[action$="/stop"] button').click()
                else:
                    with self.page.expect_navigation():
                        self.page.get_by_role(
                            "button", name="Answer the rest of the questions"
                        ).click()
            elif path.endswith("/check"):
                self.submit("Send my answers" if "/intake/" in path else "See my result")
            else:
                self.answer_page(answers)
        raise AssertionError(f"the interview did not end: {visited}")
