"""Staff pages stay English, but say which language the patient used (the queue, the
submission, each check-in), and show the answers as the patient saw them on request: the
stored answer ids in words of the patient's language, a view, not a copy."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlmodel import Session

from app import i18n
from app.models import Assessment, Clinic
from app.services import checkins
from tests.fixtures import EXAMPLE_ANSWERS, checkin_answers, record_assessment
from tests.staff.conftest import SignedInClient

PSEUDO = i18n.PSEUDO_LANGUAGE
NAMED = "Pseudo-locale (en-XA, for tests)"
T0 = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)


def submission(db: Session, app: FastAPI, clinic: Clinic, language: str) -> Assessment:
    recorded = record_assessment(
        db,
        app.state.registry.default,
        EXAMPLE_ANSWERS,
        channel="intake",
        clinic_id=clinic.id,
        language=language,
        now=T0,
    )
    db.commit()
    return db.get_one(Assessment, recorded.id)


def answers_part(html: str) -> str:
    return html[html.index('id="answers"') :]


def answer_lists(html: str) -> str:
    return "".join(re.findall(r"<dl class=\"summary-list\".*?</dl>", answers_part(html), re.S))


def words(html: str) -> list[str]:
    return re.findall(r"\b[A-Za-z]{3,}\b", re.sub(r"<[^>]+>", " ", html))


def test_staff_see_the_patient_s_language_and_their_answers_as_they_saw_them(
    signed_in: SignedInClient, clinic: Clinic, db: Session, app: FastAPI
) -> None:
    english = submission(db, app, clinic, "en")
    pseudo = submission(db, app, clinic, PSEUDO)
    browser = signed_in(clinic)

    queue = browser.get("/staff/").text
    assert queue.count(f"<br>In {NAMED}</td>") == 1
    assert '<html lang="en-GB">' in queue

    plain = browser.get(f"/staff/assessments/{english.id}").text
    assert "<dt>Language</dt><dd>English</dd>" in plain
    assert "as_seen" not in plain

    page = browser.get(f"/staff/assessments/{pseudo.id}").text
    assert f"<dt>Language</dt><dd>{NAMED} (" in page
    assert 'href="?as_seen=yes#answers">Show the answers as they saw them</a>' in page
    in_english = answers_part(page)
    assert 'lang="en-XA"' not in in_english

    seen = browser.get(f"/staff/assessments/{pseudo.id}?as_seen=yes")
    assert seen.status_code == 200
    as_seen = answers_part(seen.text)
    assert f"As the patient saw them, in {NAMED}." in as_seen
    assert '<dl class="summary-list" lang="en-XA">' in as_seen
    # The same answers, in other words; the page around them stays English.
    assert as_seen.count('class="summary-list__row') == in_english.count('class="summary-list__row')
    # The words of the answers are the pseudo-locale's (accented: no plain English word).
    assert words(answer_lists(page))
    with i18n.language(PSEUDO):
        no = i18n.gettext("No")
    # A yes/no answer's words are the catalog's (the options a definition names are its own,
    # translated with it).
    yes_no = '<dd class="summary-list__value">No</dd>'
    assert answer_lists(page).count(yes_no) > answer_lists(seen.text).count(yes_no)
    assert f'<dd class="summary-list__value">{no}</dd>' in answer_lists(seen.text)
    # The questions and options too, from the definition's translation: no English left in
    # them but the staff's own tag and the questions' units, which no translation has yet
    # (a question's `unit` is not among the definitions' translated texts: reported).
    units = {"years", "minutes", "week", "days", "hours"}
    left = [w for w in words(answer_lists(seen.text)) if w not in {"Triage", "reason", *units}]
    assert left == [], left
    assert '<h2 class="heading-m" id="answers">Answers</h2>' in seen.text
    assert '<html lang="en-GB">' in seen.text
    db.expire_all()
    assert db.get_one(Assessment, pseudo.id).answers == pseudo.answers  # nothing copied


def test_a_check_in_in_another_language_says_so(
    signed_in: SignedInClient, clinic: Clinic, db: Session, app: FastAPI
) -> None:
    record = submission(db, app, clinic, "en")
    checkins.record_checkin(
        db, app.state.registry, record, checkin_answers(), channel="intake",
        now=T0 + timedelta(weeks=2), language=PSEUDO,
    )  # fmt: skip
    db.commit()
    page = signed_in(clinic).get(f"/staff/assessments/{record.id}").text
    assert f"<p>Answered in {NAMED}.</p>" in page
