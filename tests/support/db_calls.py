"""The database calls a request makes through its ``Db`` (app/deps.py): on PostgreSQL each is
one hop to the thread pool, so a use case is one call of the request's session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from app import deps

# Every request's own end (app/deps.py get_db): its commit, or its close after an error.
_END_OF_REQUEST = {"_commit_and_close", "close"}


@contextmanager
def db_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The database calls the requests inside this block make, through the real app and
    database: the growing list of the work each one ran, by name (``send_page``), but the end
    every request has. ``run_committed`` and the others count once. Clear it between
    requests to count one at a time."""
    called: list[str] = []
    inside: set[int] = set()  # the Db objects already inside a counted call

    def counting(method: Callable[..., Any]) -> Callable[..., Any]:
        async def counted(self: deps.Db, work: Callable[..., Any], /, *a: Any, **k: Any) -> Any:
            if id(self) in inside:  # run_committed goes through run: one call
                return await method(self, work, *a, **k)
            name = getattr(work, "__name__", repr(work))
            if name not in _END_OF_REQUEST:
                called.append(name)
            inside.add(id(self))
            try:
                return await method(self, work, *a, **k)
            finally:
                inside.discard(id(self))

        return counted

    with monkeypatch.context() as patch:
        for name in ("run", "run_committed", "run_long_read", "run_off_loop"):
            patch.setattr(deps.Db, name, counting(getattr(deps.Db, name)))
        yield called
