"""The rule for one-line text that staff type: e-mail addresses, patient references, key names."""

from __future__ import annotations

import unicodedata


def control_character_problem(text: str) -> str | None:
    """A message for people if ``text`` holds a control character (NUL, tab, line break,
    escape...), else None. Such characters cannot be seen on a page, yet they cut or hide text
    in exports, logs, e-mails and terminals."""
    if any(unicodedata.category(char) == "Cc" for char in text):
        return "Remove tabs, line breaks and other control characters"
    return None
