"""Group commit for the API: the database work of concurrent requests, done together.

Under load, requests wait for the database one round trip at a time, and each round trip also
waits for the event loop to get round to it. A ``Batcher`` lets every request that needs the
same kind of work (look up an API key, store an assessment) hand its item over and wait; one task
does the work for everything handed over meanwhile, in one statement, and gives each request its
own outcome. With one request at a time a batch is that one request, so nothing waits for a
batch to fill: batches grow only when requests are already queueing (benchmarks/api.py).

Each request still gets exactly what it would have got alone: its own result or its own error,
and an answer only after its work is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

Run = Callable[[list[Item]], Awaitable[Sequence[Outcome | BaseException]]]
"""Does the work for a batch: one outcome per item, in order; an exception instance is that
item's error. If ``run`` raises, every item of the batch gets that error."""


class Batcher(Generic[Item, Outcome]):
    def __init__(self, run: Run[Item, Outcome], *, max_size: int) -> None:
        self._run = run
        self._max_size = max_size
        self._waiting: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Outcome:
        """Do ``item``'s work with whatever else is waiting, and return its outcome."""
        loop = asyncio.get_running_loop()
        if self._worker is not None and self._worker.get_loop() is not loop:
            # Left from an event loop that has gone (a test client per test): its waiters went
            # with it.
            self._waiting, self._worker = [], None
        elif self._worker is not None and self._worker.done():
            self._worker = None  # cancelled before it ever ran: a new one takes its waiters
        future: asyncio.Future[Outcome] = loop.create_future()
        self._waiting.append((item, future))
        if self._worker is None:
            # Started on the loop's next turn, after the requests already waiting to run: those
            # that get here in the meantime join this batch.
            self._worker = loop.create_task(self._work())
        return await future

    async def _work(self) -> None:
        this = asyncio.current_task()
        try:
            while self._waiting:
                # Callers cancelled while they waited (their request has gone) are dropped:
                # nobody would be told that their work was done.
                self._waiting = [waiting for waiting in self._waiting if not waiting[1].done()]
                batch = self._waiting[: self._max_size]
                del self._waiting[: self._max_size]
                if batch:
                    await self._run_batch(batch)
        finally:
            if self._worker is this:  # not a worker left from a loop that has gone
                self._worker = None
                # Cancelled (the loop is closing): nobody may wait for ever.
                for _, future in self._waiting:
                    future.cancel()
                self._waiting = []

    async def _run_batch(self, batch: list[tuple[Item, asyncio.Future[Outcome]]]) -> None:
        try:
            outcomes = await self._run([item for item, _ in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} items")
        except Exception as exc:  # every item gets the batch's error (a 503 for most)
            outcomes = [exc] * len(batch)
        except BaseException:  # cancelled (the loop is closing): nobody may wait for ever
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its request was cancelled meanwhile
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
