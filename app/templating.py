"""The Jinja2 environment shared by the patient and staff pages (autoescaped)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from .assets import static_url

TEMPLATES_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.globals["static_url"] = static_url


def tel_href(phone: str) -> str:
    """A phone number as a tel: link's target: "+44 (0)1632 960 001" → "tel:+4401632960001"."""
    if phone.lstrip().startswith("+"):
        phone = phone.replace("(0)", "")  # the trunk 0 is not dialled after a country code
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")


templates.env.filters["tel"] = tel_href
