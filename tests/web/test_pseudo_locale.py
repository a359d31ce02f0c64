"""Every patient page in the pseudo-locale (en-XA: every catalog string accented and longer) has
no English left: a word of plain ASCII letters is a string that bypassed translation.

What may stay is listed: the brand, the help lines' names (settings), a clinic's name, month
names (Babel's dates in en-XA are English ones), passages marked as another language (the
switcher's names), cookie names in <code>, and the questions' units (not yet in a definition's
translation). The questionnaires' own texts are in en-XA too: their pseudo-translation.
"""

from __future__ import annotations

import calendar
import re
from html.parser import HTMLParser

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings

from .patient_pages import every_page

ALLOWED_WORDS = {
    "backaudit",
    *calendar.month_name[1:],
    *calendar.month_abbr[1:],
    "GMT",
    "UTC",
    "BST",
}
# Attributes a person reads (or hears) besides the text.
READ_ATTRIBUTES = ("aria-label", "alt", "title", "placeholder")
# Plain ASCII words: what the pseudo-locale never makes.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}\b")
LINK = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(\.[\w-]+)+|/[\w/.?=&-]+")


class TextNodes(HTMLParser):
    """The text a person reads, without <script>, <style>, <code>, and passages in another
    language (an element whose lang is not the page's)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.page_lang = ""
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.page_lang = attributes.get("lang") or ""
        lang = attributes.get("lang")
        skipped = (
            tag in ("script", "style", "code")
            or (lang is not None and lang != self.page_lang)
            or bool(self.stack and self.stack[-1][1])
        )
        if tag not in ("meta", "link", "input", "img", "br", "hr", "path", "circle", "rect"):
            self.stack.append((tag, skipped))
        if not skipped:
            self.texts.extend(v for k, v in attrs if k in READ_ATTRIBUTES and v)
            if tag == "input" and attributes.get("type") in ("submit", "button"):
                self.texts.append(attributes.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, _ = self.stack.pop()
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1][1]) and data.strip():
            self.texts.append(data)


# A reference a person is given (RNK4Y3, NGYKGY): capitals and digits, not words.
CODE = re.compile(r"\b[A-Z0-9]{5,}\b")


def english_left(html: str, allowed: list[re.Pattern[str]]) -> list[str]:
    parser = TextNodes()
    parser.feed(html)
    found = []
    for text in parser.texts:
        rest = " ".join(text.split())
        for passage in allowed:
            rest = passage.sub(" ", rest)
        rest = CODE.sub(" ", LINK.sub(" ", rest))
        words = [w for w in ENGLISH.findall(rest) if w not in ALLOWED_WORDS]
        if words:
            found.append(" ".join(text.split()))
    return found


# Pages known to keep English (none now: the result page after a check-in works the check-ins'
# stored English results out again in the language, app/services/result_language.py).
KNOWN_ENGLISH: set[str] = set()


def test_every_patient_page_in_the_pseudo_locale_leaves_no_english(
    client: TestClient, app: FastAPI, db: Session, settings: Settings
) -> None:
    assert client.get("/?lang=en-XA").status_code == 200  # the cookie keeps it from here on
    lines = settings.help_lines
    names = [
        lines.emergency_name,
        lines.urgent_online_name,
        lines.urgent_name,
        lines.text_relay_name,
        "Riverside Physio",
    ]
    allowed = [re.compile(re.escape(n)) for n in names]
    problems: dict[str, list[str]] = {}
    count = 0
    asked: set[str] = set()
    for what, html in every_page(client, app, db):
        count += 1
        asked.update(re.findall(r"/questions/(\w+)", what))
        assert '<html lang="en-XA">' in html, what
        if what in KNOWN_ENGLISH:
            continue
        if what == "result after a check-in":
            # Worked out again in en-XA, not kept English and marked so (which the search skips).
            assert 'class="latest-checkin' in html
            assert 'class="plan-blocks"' in html
            assert 'lang="en-GB"' not in html.split("<main", 1)[1], what
        if left := english_left(html, allowed):
            problems[what] = left
    assert count > 40
    # Every page of the audit was looked at (the check-in's are walked in full).
    assert {page.id for page in app.state.registry.default.pages} <= asked
    assert not problems, "\n".join(f"{what}: {left}" for what, left in problems.items())
