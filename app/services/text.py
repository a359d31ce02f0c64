"""The rule for one-line text that staff type: e-mail addresses, patient references, key names."""

from __future__ import annotations

import unicodedata

from app.i18n import gettext


def control_character_problem(text: str) -> str | None:
    """A message for people if ``text`` holds a control character (NUL, tab, line break,
    escape...), else None. Such characters cannot be seen on a page, yet they cut or hide text
    in exports, logs, e-mails and terminals."""
    if any(unicodedata.category(char) == "Cc" or char in _HIDDEN for char in text):
        return gettext("Remove tabs, line breaks and other control characters")
    return None


def one_line(text: str) -> str:
    """``text`` with every control or hiding character a space, and runs of spaces one: for
    text stored before the rule above held, put where a line break would do harm (an e-mail
    header: a line break in it ends the header, or makes the message unsendable)."""
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" or c in _HIDDEN else c for c in text)
    return " ".join(cleaned.split())


# Format characters that reorder or hide text ("Smith\u202eevil" shows as "Smithlive"); not
# every format character: joiners belong to some scripts' spelling.
_HIDDEN = frozenset("\u200b\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
