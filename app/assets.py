"""The site's own static files: links that name their content, how long browsers keep them, and
the favicon.

A file's link carries a hash of its content (``/static/css/site.1a2b3c4d5e6f.css``), computed
once when the app starts. A changed file gets a new link, so browsers may keep each one for a
year without asking again. The plain name (``/static/css/site.css``) still works, for links
written by hand, with a short cache; so does an old hash (a page from before a deployment),
which gets today's file with the short cache.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import Final

from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR: Final = Path(__file__).parent / "static"
LONG_CACHE: Final = "public, max-age=31536000, immutable"
SHORT_CACHE: Final = "public, max-age=3600"
DIGEST_LENGTH: Final = 12
_HASHED = re.compile(
    rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})(?P<suffix>\.[A-Za-z0-9]+)$"
)


def fingerprints(directory: Path) -> dict[str, str]:
    """Each file's path under ``directory`` (``css/site.css``) and the start of its SHA-256."""
    return {
        path.relative_to(directory).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[
            :DIGEST_LENGTH
        ]
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def hashed_name(path: str, digest: str) -> str:
    """``css/site.css`` with its digest: ``css/site.1a2b3c4d5e6f.css`` (a name with no suffix
    is kept as it is)."""
    name = PurePosixPath(path)
    if not name.suffix:
        return path
    return str(name.with_name(f"{name.stem}.{digest}{name.suffix}"))


# Once, at start-up: the files do not change while the app runs. Every page links a few, so
# each link is made here, not per page.
FINGERPRINTS: Final = fingerprints(STATIC_DIR)
_LINKS: Final = {
    path: f"/static/{hashed_name(path, digest)}" for path, digest in FINGERPRINTS.items()
}


def static_url(path: str) -> str:
    """A static file's link, relative to the site (never built from the request's Host header,
    which anyone can set), with its content's hash in the name when the file exists."""
    return _LINKS.get(path) or f"/static/{path}"


class StaticAssets(StaticFiles):
    """StaticFiles that also answers fingerprinted names, and says how long to keep each file."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        hashed = _HASHED.match(path)
        original = f"{hashed['stem']}{hashed['suffix']}" if hashed else None
        if hashed and original in FINGERPRINTS:
            response = await super().get_response(original, scope)
            current = FINGERPRINTS[original] == hashed["digest"]
            cache = LONG_CACHE if current else SHORT_CACHE
        else:
            response = await super().get_response(path, scope)
            cache = SHORT_CACHE
        response.headers["Cache-Control"] = cache
        return response


async def favicon() -> Response:
    """Browsers ask for /favicon.ico by themselves; pages also name the SVG icon."""
    return FileResponse(
        STATIC_DIR / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": SHORT_CACHE},
    )
