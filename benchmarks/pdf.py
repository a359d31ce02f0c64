"""Result PDFs under load: a real `backaudit serve`, 20 clients asking at once for the PDFs of
20 different results (none made yet) while /healthz is measured, then the latency of a PDF
already made (kept in the database).

    .venv/bin/python benchmarks/pdf.py [--clients 20] [--cached 50] [--database-url URL]

Targets (README, Security and reliability): /healthz p99 under 100 ms during the flood, a kept
PDF in under 50 ms. With --all, each client refused with a 503 then comes back after its
Retry-After until its PDF is made, as a person would: how long 20 PDFs take. Prints numbers; asserts nothing (benchmarks/faults.py's pdf-flood drill checks the bounds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults import Server, get_pdf, get_status, pdf_flood, percentile, stored_results


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def retry_until_made(port: int, path: str, deadline: float) -> int:
    """Ask again after each Retry-After until the PDF comes; how many 503s that took."""
    refused = 0
    while time.monotonic() < deadline:
        answer = get_pdf(port, path)
        if answer.status == 200:
            return refused
        refused += 1
        time.sleep(float(answer.retry_after or 1))
    return refused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="PDFs asked for at once")
    parser.add_argument("--cached", type=int, default=50, help="requests for a kept PDF")
    parser.add_argument(
        "--all", action="store_true", help="then retry the refused ones until all are made"
    )
    parser.add_argument("--database-url", help="an empty database to use (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="backaudit-pdf-") as tmp_name:
        tmp = Path(tmp_name)
        url = args.database_url or f"sqlite:///{tmp / 'pdf.db'}"
        paths = stored_results(url, args.clients + 1)
        with Server(url, tmp / "server.log") as server:
            server.start()
            warm_path = paths.pop()
            warm = get_pdf(server.port, warm_path)
            print(f"first PDF (the worker process starts, loads WeasyPrint): {warm.seconds:.1f} s")
            idle = [get_status(server.port, "/healthz")[1] for _ in range(100)]
            print(
                f"/healthz idle: p50 {ms(statistics.median(idle))}, p99 {ms(percentile(idle, 0.99))}"
            )

            flood = pdf_flood(server.port, paths)
            statuses: dict[str, int] = {}
            for answer in flood.answers:
                statuses[str(answer.status)] = statuses.get(str(answer.status), 0) + 1
            health = flood.health
            print(
                f"{len(paths)} cold PDFs at once: {statuses} in {flood.seconds:.1f} s;"
                f" /healthz meanwhile ({len(health)} checks): p50 {ms(statistics.median(health))},"
                f" p99 {ms(percentile(health, 0.99))}, max {ms(max(health))}"
                f" (target p99 < 100 ms)"
            )

            # A kept PDF: the warm-up's and those the flood made, asked for one after the other.
            made = [warm_path] + [a.path for a in flood.answers if a.status == 200]
            cached = [get_pdf(server.port, made[i % len(made)]) for i in range(args.cached)]
            seconds = [answer.seconds for answer in cached]
            print(
                f"kept PDF ({args.cached} requests, {sum(a.status == 200 for a in cached)} 200):"
                f" p50 {ms(statistics.median(seconds))}, p99 {ms(percentile(seconds, 0.99))}"
                f" (target < 50 ms)"
            )

            if args.all:
                # The refused ones come back as told, until all are made.
                refused = [a.path for a in flood.answers if a.status != 200]
                began = time.monotonic()
                deadline = began + 1800
                refusals = [0] * len(refused)

                def again(index: int, path: str) -> None:
                    refusals[index] = retry_until_made(server.port, path, deadline)

                threads = [
                    threading.Thread(target=again, args=(i, p), daemon=True)
                    for i, p in enumerate(refused)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                print(
                    f"the {len(refused)} refused made {time.monotonic() - began:.1f} s later, with"
                    f" {sum(refusals)} more 503s on the way"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
