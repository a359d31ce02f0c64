"""The rule for one-line text staff type: any letters and punctuation, no control characters."""

from __future__ import annotations

import pytest

from app.services.text import control_character_problem


@pytest.mark.parametrize(
    "text", ["", "Appt 4471", "Zoë Ørsted – 1957", "name+tag@example.org", "क्\u200dष"]
)
def test_ordinary_text_passes(text: str) -> None:
    assert control_character_problem(text) is None


@pytest.mark.parametrize(
    "text",
    ["a\x00b", "a\tb", "a\nb", "a\rb", "\x1b[2J", "a\x7f", "a\x85b", "Smith\u202eevil", "a\u200bb"],
)
def test_control_characters_are_named(text: str) -> None:
    problem = control_character_problem(text)
    assert problem == "Remove tabs, line breaks and other control characters"
