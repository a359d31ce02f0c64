"""How a result's check-in history changes what its requests cost: a check-in stored through
the service, and the result page, after 0 to 96 earlier check-ins of the same result.

    .venv/bin/python benchmarks/history.py

One self-care result on a fresh SQLite file; its check-ins a day apart (the day's limit and
the duplicate window off: this is one result's whole programme, and longer). At each count,
the median of 31 check-ins worked out and stored, each rolled back (so the count stays), and
of 31 result pages, in-process through the app (production settings). Printed beside each: its
ratio to the same request with no check-ins before it, measured in the same run. A check-in
reads the newest plan and the earlier answers and times; the page shows every check-in.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api import checkin_answers  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session  # noqa: E402
from throwaway_app import throwaway_app  # noqa: E402

from app.api.examples import EXAMPLE_ANSWERS  # noqa: E402
from app.config import CheckinLimits  # noqa: E402
from app.engine import evaluate  # noqa: E402
from app.models import Assessment  # noqa: E402
from app.services.assessments import record  # noqa: E402
from app.services.checkins import record_checkin  # noqa: E402

COUNTS = (0, 3, 12, 24, 48, 96)
TIMES = 31
START = datetime(2027, 1, 4, 9, tzinfo=UTC)
LIMITS = CheckinLimits(per_day=1000, duplicate_window=timedelta(0))


def median_ms(work: Callable[[int], object]) -> float:
    seconds = []
    for n in range(TIMES):
        began = time.perf_counter()
        work(n)
        seconds.append(time.perf_counter() - began)
    return 1000 * statistics.median(seconds)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="backaudit-history-") as tmp:
        # The clock a year on: every check-in below is in the past, the page's like a visit.
        app = throwaway_app(
            Path(tmp), environment="production", clock=lambda: START + timedelta(days=365)
        )
        engine = app.state.engine
        registry = app.state.registry
        with Session(engine) as session:
            stored = record(
                session, evaluate(registry.default, EXAMPLE_ANSWERS), channel="web", now=START
            )
            session.commit()
            assessment_id, token = stored.id, stored.result_token

        def check_in(session: Session, number: int, at: datetime) -> None:
            assessment = session.get_one(Assessment, assessment_id)
            record_checkin(
                session, registry, assessment, checkin_answers(number), channel="web",
                now=at, limits=LIMITS,
            )  # fmt: skip

        def one_more(n: int) -> None:
            with Session(engine) as session:
                check_in(session, 1000 + n, START + timedelta(days=200, minutes=n))
                session.rollback()

        client = TestClient(app)

        def page(_: int) -> None:
            assert client.get(f"/result/{token}").status_code == 200

        page(0)  # warm: the routes, templates and statements built once
        print(f"one result's history, SQLite, {TIMES} of each (median)")
        print(f"{'earlier check-ins':>18} {'check-in stored':>22} {'result page':>22}")
        made = 0
        first: tuple[float, float] | None = None
        for count in COUNTS:
            with Session(engine) as session:
                for number in range(made, count):
                    check_in(session, number, START + timedelta(days=number + 1))
                    session.commit()
            made = count
            checkin, shown = median_ms(one_more), median_ms(page)
            first = first or (checkin, shown)
            print(
                f"{count:>18} {checkin:>9.2f} ms ({checkin / first[0]:4.1f}x)"
                f" {shown:>11.2f} ms ({shown / first[1]:4.1f}x)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
