"""The result's PDF in the language the result was made in: in the pseudo-locale, no
English-only text is left in it beyond an explicit allow-list (and, until the definitions are
translated, their own texts); and its font draws Polish letters and the pseudo-locale's
accents (WeasyPrint embeds the system's fonts: DejaVu Sans in the image, fonts-dejavu-core)."""

from __future__ import annotations

import io
import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from pypdf import PdfReader
from sqlmodel import Session

from app import i18n
from app.services import pdf
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO, record_assessment

PSEUDO = i18n.PSEUDO_LANGUAGE
T0 = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)
DEFINITIONS = Path(__file__).resolve().parents[2] / "questionnaires"
SELF_CARE = dict(EXAMPLE_ANSWERS)
EMERGENCY = {**SAFETY_ALL_NO, "saddle_numbness": True}
# English a translation keeps: the brand, the emergency number, units and what a PDF itself
# writes. Dates are the locale's (the pseudo-locale's are British English's).
ALLOWED = ("backaudit", "999", "111", "NHS", "PDF", "QR", "cm", "kg", "Relay UK")
MONTHS = "January February March April May June July August September October November December"


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


@cache
def definition_texts() -> list[re.Pattern[str]]:
    """The English definitions' texts (questions, options, levels, plans), which their own
    translation files translate, not the catalog (the result page, and so its PDF, does not
    show a stored result in the person's language yet: app/services/result_language.py; this
    allow-list goes when it does): each as a pattern (a placeholder such as
    {emergency_number} stands for what the app puts in; any case, as CSS may capitalise).
    Longest first, so a text is taken out before a part of it."""
    found: set[str] = set()
    for path in DEFINITIONS.glob("*.yaml"):
        if path.stem.count(".") == 0:  # not a translation (low-back-audit.pl.yaml)
            found.update(" ".join(s.split()) for s in strings(yaml.safe_load(path.read_text())))
    patterns = []
    for text in sorted(found, key=len, reverse=True):
        parts = re.split(r"\{[^{}]*\}", text)
        pattern = r"[^.]*?".join(r"\s*".join(map(re.escape, p.split())) for p in parts)
        patterns.append(re.compile(rf"(?<![A-Za-z]){pattern}(?![A-Za-z])", re.IGNORECASE))
    return patterns


def pdf_words(document: bytes) -> str:
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(document)).pages]
    return " ".join(" ".join(pages).split())


def english_left(text: str) -> list[str]:
    text = re.sub(r"(\w)- (\w)", r"\1-\2", text)  # a word (or link) broken at its hyphen
    text = re.sub(r"https?://\S+|/result/\S+", " ", text)
    for passage in definition_texts():
        text = passage.sub(" ", text)
    for kept in (*ALLOWED, *MONTHS.split()):
        text = re.sub(rf"\b{re.escape(kept)}\b", " ", text)
    return re.findall(r"\b[A-Za-z]{2,}\b", text)


def stored(app: FastAPI, db: Session, answers: dict[str, Any], language: str) -> str:
    q = app.state.registry.default
    recorded = record_assessment(
        db, q, answers, channel="web", allow_incomplete=True, language=language, now=T0
    )
    db.commit()
    return f"/result/{recorded.result_token}"


@pytest.mark.usefixtures("pdfs")
@pytest.mark.parametrize("answers", [SELF_CARE, EMERGENCY], ids=["self_care", "emergency"])
def test_a_pseudo_locale_pdf_has_no_english_only_text(
    app: FastAPI, client: TestClient, db: Session, answers: dict[str, Any]
) -> None:
    # The result was made in the pseudo-locale: its PDF is too, on a browser asking English.
    path = stored(app, db, answers, PSEUDO)
    response = client.get(f"{path}/pdf", headers={"Accept-Language": "en-GB"})
    assert response.status_code == 200, response.text[:500]
    text = pdf_words(response.content)
    left = english_left(text)
    assert left == [], " ".join(left)


def test_the_check_sees_english() -> None:
    assert english_left("Ýöûŕ ŕéšûļţ Your result, from 4 March 2031 (backaudit)") == [
        "Your",
        "result",
        "from",
    ]


POLISH_LETTERS = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"


def embedded_characters(document: bytes) -> tuple[set[str], set[int]]:
    """The fonts a PDF embeds (their names) and every character their glyphs draw (the
    subsets' cmaps: a character no font has is drawn as a box, in none of them)."""
    names: set[str] = set()
    drawn: set[int] = set()
    for page in PdfReader(io.BytesIO(document)).pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            font = font.get_object()
            names.add(str(font["/BaseFont"]).split("+", 1)[-1])
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            data = descriptor.get_object()["/FontFile2"].get_object().get_data()
            drawn |= set(TTFont(io.BytesIO(data)).getBestCmap())
    return names, drawn


@pytest.mark.usefixtures("pdfs")
def test_the_pdf_font_draws_polish_letters_and_the_pseudo_locale_s_accents() -> None:
    """The PDF's fonts are embedded (TrueType subsets, no core PDF font): regular and bold, in
    the site's stylesheet, they draw every Polish letter and every letter the pseudo-locale
    makes."""
    pseudo = "".join(sorted(set(i18n.pseudo_text(string.ascii_letters))))
    letters = POLISH_LETTERS + pseudo.replace(" ", "")
    html = (
        f'<html lang="pl"><head><link rel="stylesheet" href="{pdf.static_file_url("css/site.css")}">'
        f"</head><body><h1>{letters}</h1><p>{letters}</p></body></html>"
    )
    document = pdf.make_pdf(html)
    names, drawn = embedded_characters(document)
    assert names, "no embedded font"
    assert [c for c in letters if ord(c) not in drawn] == []
    assert any("Bold" in name for name in names)  # the heading's bold face too
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(document)).pages)
    assert POLISH_LETTERS in text
