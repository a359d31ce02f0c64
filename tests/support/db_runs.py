"""Counting a request's database calls: each ``Db.run`` is one hop to the thread pool on
PostgreSQL (app/deps.py), so a use case is one call of the request's session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.deps import Db

# Every request's own end (app/deps.py get_db): its commit, or its close after an error.
_END_OF_REQUEST = ("_commit_and_close", "Session.close")


def count_db_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the ``Db.run`` calls from now on, through the real app and database: the growing
    list of the work each one ran, by name (``send_page``), but the session's end that every
    request has. Clear it between requests."""
    calls: list[str] = []
    real = Db.run

    async def counted(self: Db, work: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        name = getattr(work, "__qualname__", repr(work))
        if name not in _END_OF_REQUEST:
            calls.append(name)
        return await real(self, work, *args, **kwargs)

    monkeypatch.setattr(Db, "run", counted)
    return calls
