"""A page as a PDF, made on the server from its print stylesheet with WeasyPrint.

WeasyPrint needs the operating system's Pango library. It is loaded on first use, not at start-up:
where it cannot load, the app still starts and serves everything else, and ``make_pdf`` raises
PdfUnavailableError, which the page answers with a clear message (never a 500).

The page reads only the site's own files (its stylesheet and pictures, from app/static): nothing
from the network, whatever the HTML says.

A PDF takes seconds of CPU, in Python (WeasyPrint): made on a thread, it would hold the GIL and
starve every other request of the worker (the health check went from 0.03 to 7.2 s under 20 at
once). So ``PdfRenderer`` makes them in a small pool of processes of their own, with a bound on
how many may be in progress or waiting: beyond it the caller is told at once (PdfBusyError), and
a request whose client leaves while it waits gives up its place (ClientGoneError).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import multiprocessing
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from app.assets import STATIC_DIR

log = logging.getLogger("backaudit.pdf")

_STATIC_ROOT = STATIC_DIR.resolve()
# One PDF at a time per process: Pango is not known to be safe across threads.
_RENDERING = threading.Lock()
_loaded: dict[str, Any] = {}


class PdfUnavailableError(RuntimeError):
    """PDFs cannot be made on this machine (WeasyPrint or its system libraries are missing)."""


class PdfBusyError(RuntimeError):
    """As many PDFs as allowed are being made or waiting: try again in a few seconds."""


class ClientGoneError(RuntimeError):
    """The client left while its PDF waited for a worker: it was never started."""


class PdfRenderer:
    """Makes PDFs in ``workers`` processes, at most ``max_pending`` in progress or waiting.

    The processes are started on the first PDF (most app instances, and tests, never make one),
    with "spawn": forking a process that runs threads (the alert sender, the thread pool) can
    copy a lock held by another thread. ``render`` runs on the event loop; it never blocks it.
    """

    # How often a waiting request checks whether its client is still there, and a worker free.
    POLL_SECONDS = 0.1

    def __init__(
        self, *, workers: int, max_pending: int, make: Callable[[str], bytes] | None = None
    ) -> None:
        self.workers = workers
        self.max_pending = max_pending
        # What a worker runs: make_pdf; a test's stand-in (a module-level function, since it
        # is sent to another process).
        self._make = make or make_pdf
        self._pool: ProcessPoolExecutor | None = None
        self.pending = 0  # in progress or waiting, in this app process
        self.running = 0
        self.rendered = 0  # PDFs made since start: what a kept PDF saves
        # The pages being made now, by their hash: a request for the same page waits for it.
        self._started: dict[str, asyncio.Future[bytes]] = {}

    async def render(self, html: str, *, client_gone: Callable[[], Awaitable[bool]]) -> bytes:
        """The page as PDF bytes. PdfBusyError at once when the bound is reached;
        ClientGoneError when ``client_gone`` says so before a worker takes it;
        PdfUnavailableError where PDFs cannot be made."""
        key = hashlib.sha256(html.encode()).hexdigest()
        if key in self._started:  # the same page, being made (a second tap): wait for that one
            return await self._join(self._started[key])
        if self.pending >= self.max_pending:
            raise PdfBusyError
        self.pending += 1
        try:
            # Waiting here, not in the pool's queue: a queued job cannot be taken back once the
            # pool has handed it to a worker process, so only this wait can be left.
            while self.running >= self.workers:
                if await client_gone():
                    raise ClientGoneError
                await asyncio.sleep(self.POLL_SECONDS)
                if key in self._started:
                    return await self._join(self._started[key])
            if await client_gone():
                raise ClientGoneError
            return await self._make_now(key, html)
        finally:
            self.pending -= 1

    async def _make_now(self, key: str, html: str) -> bytes:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bytes] = loop.create_future()
        self._started[key] = done
        self.running += 1
        pool = self._executor()
        try:
            # Once started a PDF is finished, even if its client leaves: it is kept, and the
            # next request for it costs nothing.
            pdf: bytes = await loop.run_in_executor(pool, self._make, html)
        except BrokenProcessPool as error:
            # A worker died (killed, out of memory): a new pool next time, and this request is
            # told to come back rather than given a 500.
            log.warning("a PDF worker process died (%s); starting new ones", error)
            if self._pool is pool:  # not one a later request has started meanwhile
                self._discard_pool()
            done.set_exception(PdfBusyError())
            raise PdfBusyError from error
        except Exception as error:
            done.set_exception(error)
            raise
        else:
            done.set_result(pdf)
        finally:
            self.running -= 1
            del self._started[key]
            if not done.done():  # cancelled (the app stopping): whoever waits is told to retry
                done.cancel()
            elif not done.cancelled():
                done.exception()  # read: nobody waiting on it is no error to log
        self.rendered += 1
        return pdf

    @staticmethod
    async def _join(started: asyncio.Future[bytes]) -> bytes:
        """The outcome of a PDF another request started; shielded, so that this request being
        cancelled does not cancel that one."""
        try:
            return await asyncio.shield(started)
        except asyncio.CancelledError:
            if started.cancelled():
                raise PdfBusyError from None
            raise

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
            )
        return self._pool

    def _discard_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        """At the app's shutdown: the worker processes end (after a PDF in progress)."""
        self._discard_pool()


def _lower_priority() -> None:
    """In each PDF worker process: a PDF can wait a moment, a page or a health check should
    not, so on a busy machine the app's own process gets the CPU first."""
    with suppress(OSError):
        os.nice(10)


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
