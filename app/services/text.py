"""The rule for one-line text that staff type: e-mail addresses, patient references, key names."""

from __future__ import annotations

import unicodedata


def control_character_problem(text: str) -> str | None:
    """A message for people if ``text`` holds a control character (NUL, tab, line break,
    escape...), else None. Such characters cannot be seen on a page, yet they cut or hide text
    in exports, logs, e-mails and terminals."""
    if any(unicodedata.category(char) == "Cc" or char in _HIDDEN for char in text):
        return "Remove tabs, line breaks and other control characters"
    return None


# Format characters that reorder or hide text ("Smith\u202eevil" shows as "Smithlive"); not
# every format character: joiners belong to some scripts' spelling.
_HIDDEN = frozenset("\u200b\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
