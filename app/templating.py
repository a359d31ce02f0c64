"""The Jinja2 environment shared by the patient and staff pages (autoescaped)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def static_url(path: str) -> str:
    """A static file's link, relative to the site: never built from the request's Host header,
    which anyone can set (a forged Host must not point a page's script at another site)."""
    return f"/static/{path}"


templates.env.globals["static_url"] = static_url
