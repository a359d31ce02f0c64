"""The application's errors: what went wrong, for whom to see, and with which status.

Routes and services of every door raise these; each door renders them its own way: the pages
as an HTML page (app/web/errors.py), the API as its JSON problem shape (app/api/errors.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# The database cannot be reached, is locked for too long, or has no free connection.
DATABASE_UNAVAILABLE = (OperationalError, PoolTimeoutError)
RETRY_AFTER_SECONDS = "30"


class AppError(Exception):
    """``message`` is safe to show (it never holds answers); ``problems`` name each field or
    question that was wrong (the API lists them); ``headers`` go on the response."""

    def __init__(
        self,
        status_code: int,
        message: str | None = None,
        problems: Sequence[dict[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.message = message or HTTPStatus(status_code).phrase
        self.problems = list(problems)
        self.headers = headers
        super().__init__(self.message)


class DatabaseUnavailableError(AppError):
    def __init__(self) -> None:
        super().__init__(
            503,
            "The database cannot be reached just now. Try again shortly.",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )


def log_unavailable(error: Exception) -> None:
    """Logged by class only: never a statement (it could carry answers)."""
    cause = getattr(error, "orig", None) or error
    logging.getLogger("backaudit").error(
        "database unavailable: %s.%s", type(cause).__module__, type(cause).__name__
    )
