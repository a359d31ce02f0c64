"""Stand-ins for WeasyPrint in the PDF worker processes (app/services/pdf.py PdfRenderer): fast,
and saying which page they were given. Standard library only, since each worker process
imports this module."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path


def fake_pdf(html: str) -> bytes:
    """A "PDF" that names the page it was made from."""
    return b"%PDF-fake " + hashlib.sha256(html.encode()).hexdigest().encode()


def gated_pdf(gate: str, made: str, html: str) -> bytes:
    """``fake_pdf``, once the file ``gate`` exists (the test holds the worker busy until then);
    each PDF started is a line in the file ``made``."""
    with Path(made).open("a") as log:
        log.write("started\n")
    deadline = time.monotonic() + 30
    while not Path(gate).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return fake_pdf(html)


def dies_once(marker: str, html: str) -> bytes:
    """The first call kills its worker process (as the out-of-memory killer would); later
    calls make ``fake_pdf``."""
    if not Path(marker).exists():
        Path(marker).touch()
        os._exit(1)
    return fake_pdf(html)
