"""The person's e-mails in their language: the one they used when they gave their address
(stored with it), whatever language the outbox worker's own thread is in, sent later on the
app's clock moved forward, through a real SMTP server on loopback (aiosmtpd). In the
pseudo-locale no English is left but the links and the date, which Babel writes in the
locale's format; a language no longer offered (a draft where drafts are off) is not sent."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app import i18n
from app.config import Settings
from app.models import Assessment, Checkin, ResultContact
from app.services import keep_mail
from app.services.alert_delivery import deliver_personal
from app.services.keep import Claim
from tests.alert_receivers import Mailbox, mailbox, wait_until
from tests.fixtures import TestClock
from tests.support.answers import checkin_all_too_easy
from tests.support.records import link_mail_recorded
from tests.support.settings import settings_with
from tests.web.helpers import csrf_of, form_fields, post_page, run_interview, self_care_answers

__all__ = ["mailbox"]  # a fixture, used by name

PUBLIC = "https://backaudit.example.org"
ADDRESS = "ola.person@example.com"
T0 = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)  # far from today: no test reads the calendar
HAS_POLISH = i18n.has_catalog("pl")


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return settings_with(
        settings,
        mail={"host": "127.0.0.1", "port": mailbox.port, "starttls": False},
        public_url=PUBLIC,
        alerts={"sender": "backaudit@riverside.example"},
        languages={"offer_draft": True},
    )


@pytest.fixture
def clock() -> TestClock:
    return TestClock(T0)


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def keep_in(client: TestClient, result_url: str, code: str) -> None:
    """Ask for the link and reminders with the page in ``code`` (the switcher's choice)."""
    page = client.get(f"{result_url}?lang={code}").text
    sent = client.post(
        f"{result_url}/keep",
        data={"csrf_token": csrf_of(page), "email": ADDRESS, "reminders": "yes"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text


def english_left(text: str, allowed: tuple[str, ...]) -> list[str]:
    """Words of plain ASCII letters (the pseudo-locale accents every letter it translates),
    once the links and the ``allowed`` texts are taken out."""
    text = re.sub(r"https?://\S+", " ", text)
    for kept in allowed:
        text = text.replace(kept, " ")
    return re.findall(r"\b[A-Za-z]{2,}\b", text)


def test_the_link_and_the_reminder_are_in_the_pseudo_locale_with_no_english_left(
    client: TestClient,
    mailbox: Mailbox,
    engine: Engine,
    settings: Settings,
    clock: TestClock,
    db: Session,
) -> None:
    result_url, _ = run_interview(client, self_care_answers())
    keep_in(client, result_url, i18n.PSEUDO_LANGUAGE)
    assert db.exec(select(ResultContact)).one().language == i18n.PSEUDO_LANGUAGE

    wait_until(lambda: len(mailbox.messages) == 1)
    link_mail = mailbox.messages[0]
    assert link_mail["Content-Language"] == "en-XA"
    assert english_left(str(link_mail["Subject"]), ()) == []
    assert english_left(body(link_mail), ()) == []
    assert f"{PUBLIC}{result_url}\n" in body(link_mail)
    # Sent, and recorded as sent, before the clock jumps: else the jump outruns the app sender's
    # lease on the link and deliver_personal below sends it again (a test's race, not the app's).
    wait_until(lambda: link_mail_recorded(engine))

    # Two weeks on the app's clock: the reminder, in the person's language, although this
    # thread (and the worker's) is in English.
    clock.advance(timedelta(weeks=2, hours=1))
    deliver_personal(engine, settings, clock=clock)
    wait_until(lambda: len(mailbox.messages) == 2)
    reminder = mailbox.messages[1]
    due = db.exec(select(Assessment)).one().created_at + timedelta(weeks=2)
    # The pseudo-locale's dates are British English (Babel's en_GB): the one English allowed.
    day = f"{due:%-d %B %Y}"
    assert day in body(reminder)
    assert english_left(str(reminder["Subject"]), ()) == []
    assert english_left(body(reminder), (day, "999")) == []
    assert i18n.gettext("Your back pain check-in is due") == "Your back pain check-in is due"


@pytest.mark.skipif(not HAS_POLISH, reason="no Polish catalog (app/locale/pl) on this branch")
def test_the_reminder_is_in_polish_with_a_polish_date(
    client: TestClient,
    mailbox: Mailbox,
    engine: Engine,
    settings: Settings,
    clock: TestClock,
    db: Session,
) -> None:
    result_url, _ = run_interview(client, self_care_answers())
    keep_in(client, result_url, "pl")
    wait_until(lambda: len(mailbox.messages) == 1)
    wait_until(lambda: link_mail_recorded(engine))  # as above
    client.cookies.set("lang", "en")  # what the person does later changes nothing

    clock.advance(timedelta(weeks=2, hours=1))
    deliver_personal(engine, settings, clock=clock)
    wait_until(lambda: len(mailbox.messages) == 2)
    reminder = mailbox.messages[1]
    assert reminder["Content-Language"] == "pl"
    with i18n.language("pl"):
        assert reminder["Subject"] == i18n.gettext("Your back pain check-in is due")
    due = db.exec(select(Assessment)).one().created_at + timedelta(weeks=2)
    months = ("marca", "kwietnia")  # the Polish genitive, as in "18 marca 2031"
    assert f"{due.day} {months[due.month - 3]} {due.year}" in body(reminder)


def test_a_language_no_longer_offered_gives_english() -> None:
    """A draft language where drafts are no longer offered: the e-mail is English, never the
    unreviewed text."""
    claim = Claim(
        assessment_id=uuid.uuid4(),
        kind="reminder",
        attempts=1,
        email=ADDRESS,
        unsubscribe_url=f"{PUBLIC}/reminders/stop/x.y",
        due=T0,
        reminders=True,
        language=i18n.PSEUDO_LANGUAGE,
    )
    sender = "backaudit@riverside.example"
    english = keep_mail.email_message(claim, sender=sender, now=T0, offered=("en",))
    assert english["Subject"] == "Your back pain check-in is due"
    assert english["Content-Language"] == "en-GB"
    assert "4 March 2031" in body(english)
    pseudo = keep_mail.email_message(claim, sender=sender, now=T0, offered=("en", "en-XA"))
    # The emergency number is the settings', whatever the language: no translation changes it.
    elsewhere = keep_mail.email_message(
        claim, sender=sender, now=T0, offered=("en", "en-XA"), emergency_number="112"
    )
    assert "call 112 in an emergency" in body(
        keep_mail.email_message(claim, sender=sender, now=T0, emergency_number="112")
    )
    assert "112" in body(elsewhere)
    assert "999" not in body(elsewhere)
    assert pseudo["Subject"] != english["Subject"]
    assert english_left(body(pseudo), ("4 March 2031", "999")) == []


def test_the_language_of_each_record_is_the_page_s(
    client: TestClient, db: Session, clock: TestClock
) -> None:
    client.cookies.set("lang", i18n.PSEUDO_LANGUAGE)
    run_interview(client, self_care_answers())
    assert db.exec(select(Assessment)).one().language == i18n.PSEUDO_LANGUAGE
    client.cookies.set("lang", "en")
    english_url, _ = run_interview(client, self_care_answers())
    assert {a.language for a in db.exec(select(Assessment))} == {"en", i18n.PSEUDO_LANGUAGE}

    # A check-in, in the language of its own page.
    clock.advance(timedelta(weeks=2))
    sent = post_page(
        client, f"{english_url}/checkin?lang=en-XA", form_fields(checkin_all_too_easy())
    )
    assert sent.status_code == 303, sent.text
    assert db.exec(select(Checkin)).one().language == i18n.PSEUDO_LANGUAGE
