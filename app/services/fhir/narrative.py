"""Short generated narratives (``text``) for the exported resources.

R4 says a resource SHOULD carry a human-readable narrative (dom-6), and a receiving system shows
it where it cannot render the structured data. Ours is generated from the data, says what the
resource is in a line or a few, and adds nothing the data does not hold (status ``generated``).
A Bundle has none: it is not a DomainResource; its entries carry theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

_XHTML = "http://www.w3.org/1999/xhtml"


def narrative(title: str, lines: Iterable[str] = ()) -> dict[str, Any]:
    """A ``Narrative`` of status ``generated``: a title and an optional list, all escaped."""
    body = f"<p>{escape(title)}</p>"
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    if items:
        body += f"<ul>{items}</ul>"
    return {"status": "generated", "div": f'<div xmlns="{_XHTML}">{body}</div>'}


def response_narrative(title: str, version: str, status: str, answered: int) -> dict[str, Any]:
    return narrative(
        f"Answers to {title} (version {version}): {answered} answered, status {status}."
    )


def risk_narrative(title: str, outcome: str, reasons: Iterable[str]) -> dict[str, Any]:
    return narrative(f"{title}: {outcome}", reasons)


def observation_narrative(text: str, value: object) -> dict[str, Any]:
    return narrative(f"{text}: {value}")
