"""The database calls a request makes through its ``Db`` (app/deps.py): the services' names, in
order, without the commit (or roll-back) every request ends with. On PostgreSQL each is a hop
to the thread pool, so a page counts them: one use case, one call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from app import deps

_ENDINGS = {"_commit_and_close", "close"}


@contextmanager
def db_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the services the requests inside this block called, as ``Db`` ran them."""
    called: list[str] = []

    def counting(method: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(self: deps.Db, work: Callable[..., Any], /, *a: Any, **k: Any) -> Any:
            if not getattr(self, "_counted", False):  # run_committed goes through run
                name = getattr(work, "__name__", repr(work))
                if name not in _ENDINGS:
                    called.append(name)
            self._counted = True  # type: ignore[attr-defined]
            try:
                return await method(self, work, *a, **k)
            finally:
                self._counted = False  # type: ignore[attr-defined]

        return wrapper

    with monkeypatch.context() as patch:
        for name in ("run", "run_committed", "run_long_read", "run_off_loop"):
            patch.setattr(deps.Db, name, counting(getattr(deps.Db, name)))
        yield called
