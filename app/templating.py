"""The Jinja2 environment shared by the patient and staff pages (autoescaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from .assets import static_url
from .config import HelpLines

TEMPLATES_DIR = Path(__file__).parent / "templates"


def help_lines_of(request: Request) -> HelpLines:
    """The app's help lines (its settings'): each app may have its own, so a request's page
    reads them from its app, not from a module-wide global."""
    help_lines: HelpLines = request.app.state.settings.help_lines
    return help_lines


def _help_lines(request: Request) -> dict[str, Any]:
    # Every page may say whom to call (the footer does): `help_lines` is in every page's context.
    return {"help_lines": help_lines_of(request)}


templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[_help_lines])
templates.env.globals["static_url"] = static_url


def tel_href(phone: str) -> str:
    """A phone number as a tel: link's target: "+44 (0)1632 960 001" → "tel:+4401632960001"."""
    if phone.lstrip().startswith("+"):
        phone = phone.replace("(0)", "")  # the trunk 0 is not dialled after a country code
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")


templates.env.filters["tel"] = tel_href
