"""On the person's pages a check-in opens on its due date: before it, "check in early", and
the check-in says it will not count as the one due. The app's clock is moved; no calendar."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.fixtures import TestClock
from tests.web.helpers import run_interview, self_care_answers


def test_before_its_due_date_a_check_in_is_offered_as_an_early_one(
    client: TestClient, clock: TestClock
) -> None:
    url, _ = run_interview(client, self_care_answers())
    page = client.get(url).text
    assert "your next check-in opens on" in page
    assert ">check in early</a> if you need to: it will not count as that check-in" in page
    assert ">check in now</a>" not in page
    form = client.get(f"{url}/checkin").text
    assert "This is an early check-in." in form

    clock.advance(timedelta(weeks=2, hours=1))
    page = client.get(url).text
    assert ">check in now</a>" in page
    assert "check in early" not in page
    assert "This is an early check-in." not in client.get(f"{url}/checkin").text
