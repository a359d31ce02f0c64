"""The Batcher on its own: who gets batched together, and who gets which outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.api.batching import Batcher


class Recorder:
    """A batch function that records its batches and answers each item with item × 10."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.gate = gate

    async def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        self.batches.append(list(items))
        if self.gate is not None:
            await self.gate.wait()
        return [item * 10 for item in items]


def test_concurrent_calls_share_one_batch_and_each_gets_its_own_outcome() -> None:
    run = Recorder()
    batcher: Batcher[int, int] = Batcher(run, max_size=64)

    async def main() -> list[int]:
        return await asyncio.gather(*(batcher(item) for item in range(1, 6)))

    assert asyncio.run(main()) == [10, 20, 30, 40, 50]
    assert run.batches == [[1, 2, 3, 4, 5]]


def test_one_call_alone_is_a_batch_of_one_and_does_not_wait_for_more() -> None:
    run = Recorder()
    batcher: Batcher[int, int] = Batcher(run, max_size=64)

    async def main() -> list[int]:
        return [await batcher(1), await batcher(2)]

    assert asyncio.run(main()) == [10, 20]
    assert run.batches == [[1], [2]]


def test_batches_are_at_most_max_size() -> None:
    run = Recorder()
    batcher: Batcher[int, int] = Batcher(run, max_size=2)

    async def main() -> list[int]:
        return await asyncio.gather(*(batcher(item) for item in range(1, 6)))

    assert asyncio.run(main()) == [10, 20, 30, 40, 50]
    assert run.batches == [[1, 2], [3, 4], [5]]


def test_calls_made_while_a_batch_is_running_make_the_next_batch() -> None:
    async def main() -> tuple[list[int], list[list[int]]]:
        run = Recorder(gate=asyncio.Event())
        batcher: Batcher[int, int] = Batcher(run, max_size=64)
        first = asyncio.create_task(batcher(1))
        while not run.batches:  # the first batch is running, and waits at the gate
            await asyncio.sleep(0)
        later = [asyncio.create_task(batcher(item)) for item in (2, 3)]
        await asyncio.sleep(0)
        assert run.batches == [[1]]
        assert run.gate is not None
        run.gate.set()
        return await asyncio.gather(first, *later), run.batches

    outcomes, batches = asyncio.run(main())
    assert outcomes == [10, 20, 30]
    assert batches == [[1], [2, 3]]


def test_an_item_s_own_error_goes_to_that_caller_only() -> None:
    async def run(items: list[int]) -> Sequence[int | BaseException]:
        return [ValueError(f"bad {item}") if item == 2 else item * 10 for item in items]

    batcher: Batcher[int, int] = Batcher(run, max_size=64)

    async def main() -> list[int | BaseException]:
        return await asyncio.gather(*(batcher(item) for item in (1, 2, 3)), return_exceptions=True)

    first, second, third = asyncio.run(main())
    assert (first, third) == (10, 30)
    assert isinstance(second, ValueError)
    assert str(second) == "bad 2"


def test_when_the_batch_fails_every_caller_gets_the_error_and_later_batches_still_run() -> None:
    calls: list[list[int]] = []

    async def run(items: list[int]) -> Sequence[int | BaseException]:
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("database gone")
        return [item * 10 for item in items]

    batcher: Batcher[int, int] = Batcher(run, max_size=64)

    async def main() -> tuple[list[int | BaseException], int]:
        failed = await asyncio.gather(batcher(1), batcher(2), return_exceptions=True)
        return list(failed), await batcher(3)

    failed, later = asyncio.run(main())
    assert all(isinstance(outcome, ConnectionError) for outcome in failed)
    assert later == 30


def test_a_wrong_number_of_outcomes_is_an_error_not_a_mix_up() -> None:
    async def run(items: list[int]) -> Sequence[int | BaseException]:
        return [1]

    batcher: Batcher[int, int] = Batcher(run, max_size=64)

    async def main() -> list[int | BaseException]:
        return list(await asyncio.gather(batcher(1), batcher(2), return_exceptions=True))

    assert all(isinstance(outcome, RuntimeError) for outcome in asyncio.run(main()))


def test_a_cancelled_caller_leaves_the_others_their_outcomes() -> None:
    async def main() -> list[int | BaseException]:
        run = Recorder(gate=asyncio.Event())
        batcher: Batcher[int, int] = Batcher(run, max_size=64)
        tasks = [asyncio.create_task(batcher(item)) for item in (1, 2, 3)]
        while not run.batches:
            await asyncio.sleep(0)
        tasks[1].cancel()
        assert run.gate is not None
        run.gate.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    first, second, third = asyncio.run(main())
    assert (first, third) == (10, 30)
    assert isinstance(second, asyncio.CancelledError)


def test_it_works_on_a_new_event_loop_after_the_old_one_stopped_mid_batch() -> None:
    # A test client per test runs each on its own event loop, and one may stop with a batch
    # still running: that batch's callers went with it, and new ones must not wait for it.
    run = Recorder(gate=asyncio.Event())
    batcher: Batcher[int, int] = Batcher(run, max_size=64)

    async def abandon() -> asyncio.Task[int]:
        task = asyncio.create_task(batcher(1))
        while not run.batches:
            await asyncio.sleep(0)
        return task

    old_loop = asyncio.new_event_loop()
    abandoned = old_loop.run_until_complete(abandon())  # stops with the batch at the gate
    run.gate = None

    async def main(item: int) -> int:
        return await asyncio.wait_for(batcher(item), timeout=5)

    assert asyncio.run(main(2)) == 20
    assert not abandoned.done()
    # When the old loop finally cancels its tasks, the old batch's task must leave the
    # batcher's current state alone.
    left = asyncio.all_tasks(old_loop)
    for task in left:
        task.cancel()
    old_loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
    old_loop.close()
    assert asyncio.run(main(3)) == 30
    assert run.batches == [[1], [2], [3]]


@pytest.mark.parametrize("max_size", [1, 3])
def test_every_caller_is_answered_whatever_the_batch_size(max_size: int) -> None:
    run = Recorder()
    batcher: Batcher[int, int] = Batcher(run, max_size=max_size)

    async def main() -> list[int]:
        return await asyncio.gather(*(batcher(item) for item in range(20)))

    assert asyncio.run(main()) == [item * 10 for item in range(20)]
    assert sorted(item for batch in run.batches for item in batch) == list(range(20))
    assert max(len(batch) for batch in run.batches) <= max_size


def test_a_caller_cancelled_before_its_batch_runs_is_left_out_of_it() -> None:
    """Its request has gone: nobody would be told that its work was done."""

    async def main() -> list[int | BaseException]:
        run = Recorder()
        batcher: Batcher[int, int] = Batcher(run, max_size=64)
        tasks = [asyncio.create_task(batcher(item)) for item in (1, 2, 3)]
        await asyncio.sleep(0)  # all three wait; the batch has not run yet
        tasks[1].cancel()
        outcomes = list(await asyncio.gather(*tasks, return_exceptions=True))
        assert run.batches == [[1, 3]]
        return outcomes

    first, second, third = asyncio.run(main())
    assert (first, third) == (10, 30)
    assert isinstance(second, asyncio.CancelledError)


def test_a_batch_task_cancelled_before_it_ran_does_not_block_later_callers() -> None:
    async def main() -> list[int]:
        run = Recorder()
        batcher: Batcher[int, int] = Batcher(run, max_size=64)
        first = asyncio.create_task(batcher(1))
        await asyncio.sleep(0)  # the caller waits, and the batch's task is made, not yet run
        worker = next(
            t
            for t in asyncio.all_tasks()
            if t is not first and not t.done() and t is not asyncio.current_task()
        )
        worker.cancel()
        await asyncio.sleep(0)
        # The next caller starts a new batch, which also serves the first one.
        second = await asyncio.wait_for(batcher(2), timeout=5)
        return [await asyncio.wait_for(first, timeout=5), second]

    assert asyncio.run(main()) == [10, 20]
