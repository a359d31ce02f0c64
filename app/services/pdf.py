"""A page as a PDF, made on the server from its print stylesheet with WeasyPrint.

WeasyPrint needs the operating system's Pango library. It is loaded on first use, not at start-up:
where it cannot load, the app still starts and serves everything else, and ``make_pdf`` raises
PdfUnavailableError, which the page answers with a clear message (never a 500).

The page reads only the site's own files (its stylesheet and pictures, from app/static): nothing
from the network, whatever the HTML says.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from app.assets import STATIC_DIR

log = logging.getLogger("backaudit.pdf")

_STATIC_ROOT = STATIC_DIR.resolve()
# One PDF at a time per worker: rendering takes a second or so of CPU, and Pango is not known
# to be safe across threads.
_RENDERING = threading.Lock()
_loaded: dict[str, Any] = {}


class PdfUnavailableError(RuntimeError):
    """PDFs cannot be made on this machine (WeasyPrint or its system libraries are missing)."""


def static_file_url(path: str) -> str:
    """A static file's address in a page rendered to PDF: the file itself (``static_url`` for
    the PDF's templates)."""
    return (_STATIC_ROOT / path).as_uri()


def make_pdf(html: str) -> bytes:
    """The page ``html`` as PDF bytes, laid out with its print stylesheet."""
    weasyprint = _weasyprint()
    with _RENDERING:
        document = weasyprint.HTML(
            string=html, base_url=_STATIC_ROOT.as_uri() + "/", url_fetcher=_fetcher(weasyprint)
        )
        pdf: bytes = document.write_pdf()
    return pdf


def _weasyprint() -> Any:
    """The weasyprint module, imported once; its failure is remembered too."""
    if "module" not in _loaded:
        try:
            # Imported on first use: start-up never depends on it.
            import weasyprint
        except (ImportError, OSError) as error:  # OSError: a system library is missing
            log.warning("PDFs cannot be made here: WeasyPrint did not load (%s)", error)
            _loaded["module"] = None
        else:
            # Its notes about CSS it does not support are not the app's business.
            logging.getLogger("weasyprint").setLevel(logging.ERROR)
            _loaded["module"] = weasyprint
    if _loaded["module"] is None:
        raise PdfUnavailableError
    return _loaded["module"]


def _fetcher(weasyprint: Any) -> Any:
    if "fetcher" not in _loaded:

        class StaticFilesOnly(weasyprint.urls.URLFetcher):  # type: ignore[misc]
            def fetch(self, url: str, headers: Any = None) -> Any:
                path = _static_file(url)
                if path is None:
                    # WeasyPrint leaves the resource out and goes on.
                    raise ValueError("a PDF reads only the site's own static files")
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return weasyprint.urls.URLFetcherResponse(
                    url, path.read_bytes(), {"Content-Type": mime}
                )

        _loaded["fetcher"] = StaticFilesOnly()
    return _loaded["fetcher"]


def _static_file(url: str) -> Path | None:
    """The file under app/static that a file: URL names, or None for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(_STATIC_ROOT) or not path.is_file():
        return None
    return path
