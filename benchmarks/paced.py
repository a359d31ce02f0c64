"""A paced (open-loop) HTTP client: requests at a fixed offered rate, whatever the server does.

wrk drives a server flat out (a new request the moment an answer comes), so its latency is only
concurrency divided by throughput. Here request i is due at start + i / rate and is sent on the
first free keep-alive connection; its latency runs from the moment it was due, so a server (or
client) that falls behind shows up in the percentiles instead of slowing the offered load down
(wrk2's correction for coordinated omission; `hey -q` measures from the actual send instead).

Not `hey`: it sends one URL with one body, and a check-in must go to many results with answers
that differ (the same answers again are a duplicate, not a new check-in). h11 (a dependency of
uvicorn) does the HTTP/1.1 framing; the client costs about a tenth of a millisecond of CPU per
request, small beside the server's milliseconds on the same cores.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import h11


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass
class PacedRun:
    name: str
    offered_rate: float
    due: int  # requests that came due within the duration
    ok: int = 0
    other: int = 0  # an answer with another status
    errors: int = 0  # no answer (connection failed or closed, or too late)
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    other_statuses: Counter[int] = field(default_factory=Counter)

    @property
    def achieved_rate(self) -> float:
        return (self.ok + self.other) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The nearest-rank percentile of every answered request's latency."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100), at least 1
        return ordered[int(rank) - 1]


def run_paced(
    host: str,
    port: int,
    name: str,
    make_request: Callable[[int], Request],
    *,
    rate: float,
    seconds: float,
    connections: int,
    expect: int,
) -> PacedRun:
    """Send make_request(0), make_request(1), ... at `rate` a second for `seconds`."""
    return asyncio.run(_run(host, port, name, make_request, rate, seconds, connections, expect))


async def _run(
    host: str,
    port: int,
    name: str,
    make_request: Callable[[int], Request],
    rate: float,
    seconds: float,
    connections: int,
    expect: int,
) -> PacedRun:
    total = int(rate * seconds)
    run = PacedRun(name, rate, total)
    # Built before the clock starts, so making bodies costs nothing while measuring.
    requests = [make_request(i) for i in range(total)]
    queue: asyncio.Queue[tuple[Request, float] | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def dispatch(start: float) -> None:
        for i, request in enumerate(requests):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((request, due))
        for _ in range(connections):
            queue.put_nowait(None)

    async def connection() -> None:
        link: tuple[asyncio.StreamReader, asyncio.StreamWriter, h11.Connection] | None = None
        while (item := await queue.get()) is not None:
            request, due = item
            try:
                if link is None:
                    reader, writer = await asyncio.open_connection(host, port)
                    link = (reader, writer, h11.Connection(h11.CLIENT))
                status = await asyncio.wait_for(_exchange(link, host, port, request), 30)
            except (TimeoutError, OSError, h11.ProtocolError):
                run.errors += 1
                if link is not None:
                    link[1].close()
                link = None
                continue
            run.latencies_ms.append((loop.time() - due) * 1000)
            if status == expect:
                run.ok += 1
            else:
                run.other += 1
                run.other_statuses[status] += 1
            if link[2].our_state is h11.MUST_CLOSE:
                link[1].close()
                link = None
            else:
                link[2].start_next_cycle()
        if link is not None:
            link[1].close()

    start = loop.time() + 0.05
    began = time.perf_counter()
    await asyncio.gather(dispatch(start), *(connection() for _ in range(connections)))
    run.seconds = time.perf_counter() - began
    return run


async def _exchange(
    link: tuple[asyncio.StreamReader, asyncio.StreamWriter, h11.Connection],
    host: str,
    port: int,
    request: Request,
) -> int:
    reader, writer, conn = link
    headers = [("Host", f"{host}:{port}"), *request.headers]
    if request.body:
        headers.append(("Content-Length", str(len(request.body))))
    data = conn.send(h11.Request(method=request.method, target=request.target, headers=headers))
    if request.body:
        data = (data or b"") + (conn.send(h11.Data(data=request.body)) or b"")
    writer.write((data or b"") + (conn.send(h11.EndOfMessage()) or b""))
    await writer.drain()
    status = 0
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            chunk = await reader.read(65536)
            conn.receive_data(chunk)  # b"" says the server closed: h11 raises if mid-answer
            continue
        if isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.EndOfMessage):
            return status
        elif isinstance(event, h11.ConnectionClosed):
            raise OSError("the server closed the connection")
