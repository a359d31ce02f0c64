"""The red-flag pages, measured in taps on the real pages (issue 26): every sign that alone means
an emergency reaches the emergency advice within 3 taps of the first warning-sign question, a
missed answer gives a short error summary, and a person with no sign gets through in no more
taps than before. The driver is benchmarks/redflags.py, which prints the same numbers for the
layouts weighed (README, "The red-flag pages")."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.services.questionnaires import Registry

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from redflags import (
    EMERGENCY_ANSWERS,
    self_care_result,
    walk,
)

AUDIT_SIGNS = list(EMERGENCY_ANSWERS)
CHECKIN_SIGNS = [s for s in EMERGENCY_ANSWERS if s != "serious_accident"]  # not asked again


@pytest.mark.parametrize("sign", AUDIT_SIGNS)
def test_each_emergency_sign_of_the_audit_is_within_3_taps_of_the_first_warning_sign_question(
    client: TestClient, registry: Registry, sign: str
) -> None:
    audit = registry.default
    best = walk(client, audit, "", sign)
    assert best.emergency
    assert best.taps <= 3  # its answer and Continue: 2
    # Read top to bottom: a "no" to each question above it on its page first, and no more
    # (no page before it but the age).
    first = [x.id for x in audit.sections[0].pages[1].questions]  # after the age
    worst = walk(client, audit, "", sign, worst=True)
    assert worst.emergency
    assert worst.taps == first.index(sign) + 2


@pytest.mark.parametrize("sign", CHECKIN_SIGNS)
def test_each_emergency_sign_of_the_check_in_is_within_3_taps_of_its_first_question(
    client: TestClient, registry: Registry, sign: str
) -> None:
    audit, checkin = registry.default, registry.get("low-back-checkin")
    result = self_care_result(client, audit)
    best = walk(client, checkin, result, sign)
    assert best.emergency
    assert best.taps <= 3
    first = [x.id for x in checkin.pages[0].questions]
    worst = walk(client, checkin, result, sign, worst=True)
    assert worst.emergency
    assert worst.taps == first.index(sign) + 2


def test_no_sign_goes_through_the_audits_safety_pages_with_short_error_summaries(
    client: TestClient, registry: Registry
) -> None:
    audit = registry.default
    clear = walk(client, audit, "", None, errors=True)  # each page first sent empty
    assert not clear.emergency
    # The page of emergency signs has 8 questions, the others at most 4 (it was 7: the
    # old "Other warning signs" page).
    assert clear.longest_error_summary == 8
    # 20 answers and 4 Continues after the age (it was 25, on five pages).
    assert walk(client, audit, "", None).taps == 24


def test_no_sign_goes_through_the_check_ins_warning_signs_with_short_error_summaries(
    client: TestClient, registry: Registry
) -> None:
    audit, checkin = registry.default, registry.get("low-back-checkin")
    result = self_care_result(client, audit)
    clear = walk(client, checkin, result, None, errors=True)
    assert not clear.emergency
    assert clear.longest_error_summary == 7  # it was 17, all on one page
    # 17 answers and 4 Continues (it was 18 on one page: 3 more taps for 10 fewer error links).
    assert walk(client, checkin, result, None).taps == 21
