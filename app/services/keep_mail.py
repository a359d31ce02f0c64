"""What the person's own e-mails say (app/services/keep.py sends them): the link they asked for
and the check-in reminders, each in the language the person used when they gave their address
(ResultContact.language), whatever request or thread the outbox worker sends it from.

The link e-mail has the link, and what the address is kept for; a reminder says a check-in is
due and where the link is, never the link itself. Both say how to stop.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from email.message import EmailMessage
from typing import Final
from zoneinfo import ZoneInfo

from app.i18n import BASE_LANGUAGE, format_day, gettext, language

from . import mail
from .keep import Claim

PERSON_ZONE: Final = ZoneInfo("Europe/London")  # the dates a person is shown


def email_message(
    claim: Claim,
    *,
    sender: str,
    now: datetime,
    offered: Collection[str] = (BASE_LANGUAGE,),
    emergency_number: str = "999",
) -> EmailMessage:
    """The e-mail for ``claim``, in the person's language; in English when that language is
    not ``offered`` now (a draft language no longer offered is never sent to a person).
    ``emergency_number``: the settings' (EMERGENCY_NUMBER), as the pages say it: a number
    no translation can change."""
    code = claim.language if claim.language in offered else BASE_LANGUAGE
    with language(code) as chosen:
        link_subject = gettext("Your back pain result link")
        subject = (
            link_subject if claim.kind == "link" else gettext("Your back pain check-in is due")
        )
        message = mail.new_message(subject=subject, sender=sender, to=claim.email, now=now)
        message["List-Unsubscribe"] = f"<{claim.unsubscribe_url}>"
        if claim.reminders:
            stop = gettext("To stop the reminders and have us forget your address, open:")
        else:
            stop = gettext("To have us forget your address now, open:")
        stop_lines = f"{stop}\n{claim.unsubscribe_url}\n"
        if claim.kind == "link":
            message.set_content(_link_text(claim, stop_lines))
        else:
            message.set_content(_reminder_text(claim, link_subject, stop_lines, emergency_number))
        # After set_content, which replaces every Content- header (RFC 3282).
        message["Content-Language"] = chosen.html_lang
        return message


def _reminder_text(claim: Claim, link_subject: str, stop_lines: str, emergency_number: str) -> str:
    assert claim.due is not None
    day = format_day(claim.due.astimezone(PERSON_ZONE).date())
    paragraphs = [
        gettext("Your back pain check-in is due (from %(day)s).") % {"day": day},
        gettext(
            'Open your result with the link we e-mailed you earlier ("%(subject)s") or the'
            ' QR code on your PDF, and choose "Check in". It takes about 3 minutes.'
        )
        % {"subject": link_subject},
        gettext(
            "If your pain is much worse, or you have new numbness, weakness, or problems"
            " peeing or pooing, do not wait for the check-in: get help now (call %(number)s in"
            " an emergency)."
        )
        % {"number": emergency_number},
    ]
    return "\n\n".join(paragraphs) + "\n\n" + stop_lines


def _link_text(claim: Claim, stop_lines: str) -> str:
    if claim.reminders:
        kept = gettext(
            "We keep your address to remind you when a check-in is due, until you delete"
            " your result or stop the reminders."
        )
    else:
        kept = gettext(
            "We keep your address only until this e-mail is sent: you asked for no reminders."
        )
    paragraphs = [
        gettext("Here is the link to your back pain result, as you asked:")
        + f"\n\n{claim.result_url}",
        gettext(
            "It opens your answers and your plan, and is the only way back to them: keep this"
            " e-mail, and do not share the link with anyone you would not show your answers to."
        ),
        kept,
        stop_lines.rstrip("\n"),
        gettext(
            "If you did not ask for this, someone typed your address by mistake: open that"
            " last link to have us forget it."
        ),
    ]
    return "\n\n".join(paragraphs) + "\n"
