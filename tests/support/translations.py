"""Translation files for tests: a complete stand-in translation ("xx") of a definition, made
from its English texts, with any header field or text changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.engine import english_fingerprint, text_catalogue

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
AUDIT = "low-back-audit"
BLOCKS = "exercise-blocks"


def catalogue(stem: str) -> dict[str, str]:
    raw = yaml.safe_load((QUESTIONNAIRES / f"{stem}.yaml").read_text(encoding="utf-8"))
    return text_catalogue(raw)


def stand_in(text: str) -> str:
    """A stand-in translation ("xx"): every text marked, every placeholder kept."""
    return f"XX {text} XX"


def write_translation(
    folder: Path,
    stem: str,
    language: str = "xx",
    texts: dict[str, str] | None = None,
    **header: Any,
) -> Path:
    """A translation file of ``stem`` (every text, as ``stand_in`` has it, unless
    ``texts`` is given), with the header's fields changed by ``header``."""
    raw = yaml.safe_load((folder / f"{stem}.yaml").read_text(encoding="utf-8"))
    data: dict[str, Any] = {
        "language": language,
        "name": "Test language",
        "translates": raw.get("id", BLOCKS),
        "version": str(raw["version"]),
        "status": "draft",
        "reviewed_by": None,
        "reviewed_on": None,
    }
    if header.get("status") == "reviewed":  # read against today's English, unless a test says
        data["reviewed_english"] = english_fingerprint(raw)
    data.update(header)
    if texts is None:
        texts = {key: stand_in(text) for key, text in text_catalogue(raw).items()}
    data["texts"] = texts
    path = folder / f"{stem}.{language}.yaml"
    path.write_text(
        "# a test translation\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path


def line_with(path: Path, words: str) -> int:
    """The line of ``path`` that holds ``words`` (1-based)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if words in line:
            return number
    raise AssertionError(f"{words!r} not in {path}")
