"""The trust pages (app/web/trust.py): about this check, privacy notice, cookies, accessibility
statement and contact, each linked from every page's footer, patient and staff alike."""

from __future__ import annotations

import ast
import re
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from app.config import Settings
from app.main import create_app
from app.services import about
from app.services.drafts import DRAFT_LIFETIME
from tests.support.settings import settings_with

APP = Path(__file__).resolve().parents[2] / "app"
TRUST_PAGES = {
    "/about": "About this check",
    "/privacy": "Privacy notice",
    "/cookies": "Cookies",
    "/accessibility": "Accessibility statement",
    "/contact": "Contact",
}


def footer_of(html: str) -> str:
    match = re.search(r'<footer class="site-footer">(.*?)</footer>', html, re.S)
    assert match, "the page has no footer"
    return match.group(1)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize(("path", "heading"), list(TRUST_PAGES.items()))
def test_each_trust_page_answers_with_its_heading(
    client: TestClient, path: str, heading: str
) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert re.findall(r"<h1[^>]*>(.*?)</h1>", page.text) == [heading]
    assert f"<title>{heading} – backaudit</title>" in page.text


@pytest.mark.parametrize(
    "path", ["/", "/questions/about_you", "/result/no-such-result", "/staff/login", "/about"]
)
def test_every_footer_links_every_trust_page(client: TestClient, path: str) -> None:
    footer = footer_of(client.get(path).text)
    for link, name in TRUST_PAGES.items():
        assert f'<a href="{link}">{name}</a>' in footer, (path, link)


def test_the_staff_layout_keeps_its_own_footer_words_beside_the_links(client: TestClient) -> None:
    footer = footer_of(client.get("/staff/login").text)
    assert "backaudit for clinics" in footer
    assert '<a href="/privacy">' in footer


def test_about_names_the_version_and_when_it_was_last_reviewed(
    client: TestClient, settings: Settings
) -> None:
    text = text_of(client.get("/about").text)
    version = create_app(settings).state.registry.default.version
    reviewed = about.last_reviewed(settings.questionnaires_dir, version)
    assert reviewed is not None, "the change log dates the version the app runs"
    assert f"version {version}" in text
    assert f"Last reviewed {reviewed.day} {reviewed.strftime('%B %Y')}" in text


def test_about_says_plainly_that_there_is_no_clinical_sign_off_yet(client: TestClient) -> None:
    text = text_of(client.get("/about").text)
    assert "has not yet been signed off by a clinical safety officer" in text


@pytest.mark.parametrize(
    "source",
    [
        "NG59",
        "Clinical Knowledge Summaries",
        "cauda equina syndrome",
        "international framework for red flags",
        "NG65",
        "NG234",
        "5 exercises to prevent and alleviate low back pain",
    ],
)
def test_about_lists_its_sources(client: TestClient, source: str) -> None:
    assert source in text_of(client.get("/about").text)


def test_the_review_date_is_the_change_logs_heading_for_that_version(tmp_path: Path) -> None:
    (tmp_path / "CHANGELOG.md").write_text(
        "# Changes\n\n## 3.1.0 — 2027-02-03\n\ntext\n\n## 3.0.0 - 2026-12-01\n\n## 2.9.9 — 2026-13-45\n"
    )
    assert about.last_reviewed(tmp_path, "3.1.0") == date(2027, 2, 3)
    assert about.last_reviewed(tmp_path, "3.0.0") == date(2026, 12, 1)
    assert about.last_reviewed(tmp_path, "2.9.9") is None  # no such day
    assert about.last_reviewed(tmp_path, "4.0.0") is None
    assert about.last_reviewed(tmp_path / "nowhere", "3.1.0") is None


def test_about_says_so_when_the_version_has_no_date(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    for definition in settings.questionnaires_dir.glob("*.yaml"):
        (tmp_path / definition.name).write_bytes(definition.read_bytes())
    undated = settings.model_copy(update={"questionnaires_dir": tmp_path})
    with TestClient(create_app(undated)) as client:
        text = text_of(client.get("/about").text)
    assert "Last reviewed Not recorded" in text


def test_the_privacy_notice_says_how_long_unfinished_answers_are_kept(client: TestClient) -> None:
    text = text_of(client.get("/privacy").text)
    assert f"kept for {DRAFT_LIFETIME.days} days after your last answer" in text
    assert "Your result is kept until you delete it" in text
    assert "the clinic's staff can see your answers and your result" in text
    assert "a link to delete your answers and result" in text


def cookie_names_in_the_code() -> set[str]:
    """Every ``SOMETHING_COOKIE = "name"`` in app/: the names the site sets."""
    names = set()
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[ast.expr]
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.Assign):
                targets = node.targets
            else:
                continue
            named = any(isinstance(t, ast.Name) and t.id.endswith("_COOKIE") for t in targets)
            if named and isinstance(node.value, ast.Constant):
                names.add(str(node.value.value))
    return names


def test_the_cookies_page_lists_every_cookie_the_code_sets(client: TestClient) -> None:
    names = cookie_names_in_the_code()
    assert {"ba_csrf", "ba_draft", "backaudit_staff"} <= names  # the scan finds them
    listed = set(re.findall(r"<code>([^<]+)</code>", client.get("/cookies").text))
    assert names <= listed
    assert "ba_intake_…" in listed  # one per reusable intake link (app/web/entry.py)


def test_contact_shows_the_operators_address_when_one_is_set(
    settings: Settings, engine: Engine
) -> None:
    configured = settings_with(
        settings, operator={"contact_email": "help@backaudit.example", "name": "Example Health"}
    )
    with TestClient(create_app(configured)) as client:
        for path in ("/contact", "/privacy", "/accessibility"):
            page = client.get(path).text
            assert '<a href="mailto:help@backaudit.example">' in page, path
        assert "run by Example Health" in text_of(client.get("/contact").text)


def test_contact_says_so_when_no_address_is_set(client: TestClient) -> None:
    text = text_of(client.get("/contact").text)
    assert "not given a contact address yet" in text
    assert "mailto:" not in client.get("/contact").text


@pytest.mark.parametrize("email", ["not-an-address", "a@b@c", "a b@example.org", "@example.org"])
def test_a_contact_email_that_is_not_one_is_refused(settings: Settings, email: str) -> None:
    with pytest.raises(ValidationError, match="CONTACT_EMAIL"):
        settings_with(settings, operator={"contact_email": email})
