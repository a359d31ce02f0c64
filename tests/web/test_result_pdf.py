"""The result's PDF costs seconds of CPU: it is made once per version of the page and kept
(app/services/result_pdfs.py), in worker processes with a bound on how many wait
(app/services/pdf.py PdfRenderer), so the rest of the app never waits behind PDFs.

The worker processes are real; what they run is a stand-in (tests/web/pdf_workers.py) except in
tests/web/test_result_page.py, which makes real PDFs."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import ValidationError
from sqlmodel import Session, select

from app.config import Pdf
from app.models import Assessment, ResultPdf
from app.services import accounts, checkins, clinics, pdf
from app.services import release as release_service
from tests.fixtures import (
    EXAMPLE_ANSWERS,
    SAFETY_ALL_NO,
    TestClock,
    checkin_answers,
    record_assessment,
)
from tests.support.asyncio_apart import run_apart
from tests.web.pdf_workers import dies_once, fake_pdf, gated_pdf

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SELF_CARE = dict(EXAMPLE_ANSWERS)
EMERGENCY = {**SAFETY_ALL_NO, "saddle_numbness": True}


@pytest.fixture(autouse=True)
def _on_the_records_clock(clock: TestClock) -> None:
    """The app reads the same time line as the records below, whatever today's date."""
    clock.set(T0 + timedelta(days=20))


@pytest.fixture
def renderer(app: FastAPI) -> Iterator[pdf.PdfRenderer]:
    """The app's PDF workers, running the fast stand-in."""
    made = pdf.PdfRenderer(workers=1, max_pending=2, make=fake_pdf)
    app.state.pdf_renderer = made
    yield made
    made.shutdown()


def store(db: Session, app: FastAPI, answers: dict[str, Any], **options: Any) -> tuple[Any, str]:
    recorded = record_assessment(
        db,
        app.state.registry.default,
        answers,
        channel=options.pop("channel", "web"),
        allow_incomplete=True,
        now=T0,
        **options,
    )
    db.commit()
    return recorded, f"/result/{recorded.result_token}"


def kept(db: Session) -> list[ResultPdf]:
    db.expire_all()
    return list(db.exec(select(ResultPdf)))


def get_pdf(client: TestClient, path: str) -> Response:
    response = client.get(f"{path}/pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response


def test_a_second_request_is_served_from_the_store_without_making_it_again(
    app: FastAPI, client: TestClient, db: Session, renderer: pdf.PdfRenderer
) -> None:
    recorded, path = store(db, app, SELF_CARE)

    first = get_pdf(client, path)
    second = get_pdf(client, path)

    assert renderer.rendered == 1
    assert second.content == first.content
    assert second.headers["cache-control"] == "no-store"
    [row] = kept(db)
    assert row.assessment_id == recorded.id
    assert row.pdf == first.content


def test_a_check_in_gives_a_new_pdf(
    app: FastAPI, client: TestClient, db: Session, renderer: pdf.PdfRenderer
) -> None:
    recorded, path = store(db, app, SELF_CARE)
    before = get_pdf(client, path).content
    assessment = db.get_one(Assessment, recorded.id)
    checkins.record_checkin(
        db,
        app.state.registry,
        assessment,
        checkin_answers(),
        channel="web",
        now=T0 + timedelta(days=15),
    )
    db.commit()

    after = get_pdf(client, path).content

    assert after != before
    assert renderer.rendered == 2
    assert get_pdf(client, path).content == after  # and that one is kept
    assert renderer.rendered == 2
    [row] = kept(db)  # only the latest
    assert row.pdf == after


def test_a_correction_gives_a_new_pdf(
    app: FastAPI, client: TestClient, db: Session, renderer: pdf.PdfRenderer
) -> None:
    old, path = store(db, app, EMERGENCY)
    before = get_pdf(client, path).content
    record_assessment(
        db,
        app.state.registry.default,
        SELF_CARE,
        channel="web",
        replaces=old.id,
        now=T0 + timedelta(minutes=2),
    )
    db.commit()

    after = get_pdf(client, path).content  # the old link leads to the corrected result

    assert after != before
    assert renderer.rendered == 2


def test_a_release_gives_a_new_pdf(
    app: FastAPI, client: TestClient, db: Session, renderer: pdf.PdfRenderer
) -> None:
    clinic = clinics.create_clinic(db, name="Riverside Physio")
    clinician, _ = accounts.create_user(
        db,
        clinic_id=clinic.id,
        email="clinician@riverside.example",
        role="clinician",
        password="a long enough password 1",
    )
    db.commit()
    see_doctor = {**SELF_CARE, "pregnant": True}
    recorded, path = store(db, app, see_doctor, channel="intake", clinic_id=clinic.id)
    before = get_pdf(client, path).content
    release_service.release(
        db,
        app.state.registry,
        db.get_one(Assessment, recorded.id),
        by=clinician,
        now=T0 + timedelta(days=1),
    )
    db.commit()

    after = get_pdf(client, path).content

    assert after != before
    assert renderer.rendered == 2


def test_deleting_the_result_erases_its_kept_pdf(
    app: FastAPI, client: TestClient, db: Session, renderer: pdf.PdfRenderer
) -> None:
    _, path = store(db, app, SELF_CARE)
    get_pdf(client, path)
    other, other_path = store(db, app, SELF_CARE)
    get_pdf(client, other_path)
    assert len(kept(db)) == 2

    page = client.get(f"{path}/delete").text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(f"{path}/delete", data={"csrf_token": csrf}).status_code == 200

    assert [row.assessment_id for row in kept(db)] == [other.id]


def test_removing_a_clinic_submissions_link_erases_its_kept_pdf(
    app: FastAPI, client: TestClient, db: Session, renderer: pdf.PdfRenderer
) -> None:
    clinic = clinics.create_clinic(db, name="Riverside Physio")
    db.commit()
    recorded, path = store(db, app, SELF_CARE, channel="intake", clinic_id=clinic.id)
    get_pdf(client, path)

    page = client.get(f"{path}/delete").text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(f"{path}/delete", data={"csrf_token": csrf}).status_code == 200

    assert kept(db) == []
    assert db.get(Assessment, recorded.id) is not None  # the clinic keeps its copy


# -- The bound ----------------------------------------------------------------------------------


def wait_until(condition: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_when_the_bound_is_reached_a_pdf_request_gets_a_503_with_retry_after(
    app: FastAPI, client: TestClient, db: Session, tmp_path: Path
) -> None:
    gate, made = tmp_path / "gate", tmp_path / "made"
    renderer = pdf.PdfRenderer(
        workers=1, max_pending=1, make=partial(gated_pdf, str(gate), str(made))
    )
    app.state.pdf_renderer = renderer
    _, busy_path = store(db, app, SELF_CARE)
    _, path = store(db, app, EMERGENCY)
    answers: list[Response] = []
    first = threading.Thread(target=lambda: answers.append(client.get(f"{busy_path}/pdf")))
    first.start()
    try:
        wait_until(lambda: made.exists())  # the worker is making the first one

        refused = client.get(f"{path}/pdf")

        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "10"
        assert refused.headers["content-type"].startswith("text/html")
        assert "Sorry, we are making other PDFs right now" in refused.text
        assert "Please try again in a few seconds" in refused.text
        assert f'href="{path}"' in refused.text
        # Everything else goes on meanwhile.
        assert client.get("/healthz").status_code == 200
        assert client.get(path).status_code == 200
    finally:
        gate.touch()
        first.join(30)
        renderer.shutdown()
    assert answers[0].status_code == 200
    # Once the worker is free, the refused one is made.
    assert get_pdf(client, path).content.startswith(b"%PDF")


def test_a_kept_pdf_is_served_even_when_the_bound_is_reached(
    app: FastAPI, client: TestClient, db: Session, renderer: pdf.PdfRenderer
) -> None:
    _, path = store(db, app, SELF_CARE)
    first = get_pdf(client, path).content
    renderer.max_pending = 0  # as if every place were taken

    assert get_pdf(client, path).content == first


def test_a_request_whose_client_leaves_while_waiting_is_never_made(tmp_path: Path) -> None:
    gate, made = tmp_path / "gate", tmp_path / "made"
    renderer = pdf.PdfRenderer(
        workers=1, max_pending=2, make=partial(gated_pdf, str(gate), str(made))
    )
    left = asyncio.Event()

    async def still_there() -> bool:
        return False

    async def gone() -> bool:
        return left.is_set()

    async def run() -> tuple[Any, Any]:
        making = asyncio.create_task(renderer.render("<p>first</p>", client_gone=still_there))
        waiting = asyncio.create_task(renderer.render("<p>second</p>", client_gone=gone))
        while not made.exists():
            await asyncio.sleep(0.02)
        assert renderer.pending == 2
        left.set()  # the second one's client hangs up while it waits for the worker
        outcome = await asyncio.gather(waiting, return_exceptions=True)
        assert renderer.pending == 1  # its place is free at once
        gate.touch()
        return await making, outcome[0]

    try:
        first, second = run_apart(run)
    finally:
        renderer.shutdown()
    assert first.startswith(b"%PDF")
    assert isinstance(second, pdf.ClientGoneError)
    assert made.read_text().count("started") == 1
    assert renderer.rendered == 1
    assert renderer.pending == 0


def test_a_worker_process_that_dies_is_replaced(
    app: FastAPI, client: TestClient, db: Session, tmp_path: Path
) -> None:
    renderer = pdf.PdfRenderer(
        workers=1, max_pending=2, make=partial(dies_once, str(tmp_path / "died"))
    )
    app.state.pdf_renderer = renderer
    _, path = store(db, app, SELF_CARE)
    try:
        died = client.get(f"{path}/pdf")
        assert died.status_code == 503  # not a 500
        assert died.headers["retry-after"] == "10"
        assert get_pdf(client, path).content.startswith(b"%PDF")  # new worker processes
    finally:
        renderer.shutdown()
    assert kept(db) != []


def test_pdf_max_pending_below_the_workers_is_refused() -> None:
    with pytest.raises(ValidationError, match="PDF_MAX_PENDING"):
        Pdf(workers=2, max_pending=1)


def test_the_same_page_asked_for_twice_at_once_is_made_once(tmp_path: Path) -> None:
    gate, made = tmp_path / "gate", tmp_path / "made"
    renderer = pdf.PdfRenderer(
        workers=1, max_pending=1, make=partial(gated_pdf, str(gate), str(made))
    )

    async def still_there() -> bool:
        return False

    async def run() -> list[Any]:
        first = asyncio.create_task(renderer.render("<p>mine</p>", client_gone=still_there))
        while not made.exists():
            await asyncio.sleep(0.02)
        # A second tap on the same link: it waits for the first, taking no place.
        second = asyncio.create_task(renderer.render("<p>mine</p>", client_gone=still_there))
        other = asyncio.create_task(renderer.render("<p>other</p>", client_gone=still_there))
        await asyncio.sleep(0.1)
        gate.touch()
        return list(await asyncio.gather(first, second, other, return_exceptions=True))

    try:
        first, second, other = run_apart(run)
    finally:
        renderer.shutdown()
    assert first == second == fake_pdf("<p>mine</p>")
    assert isinstance(other, pdf.PdfBusyError)  # the one place was the first's
    assert made.read_text().count("started") == 1
    assert renderer.rendered == 1
