"""The check-ins' calendar file (.ics, RFC 5545): an all-day event on each due date with an
alarm on its morning, in the current language (the person's page's, app/i18n.py).

The link in it is the person's private one, so the file is sent to them only; calendars keep
(and often sync) it as long as the event, so each event says so, and ends on its day.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from app.i18n import current_language, gettext
from app.models import Assessment

from . import checkin_dates

# RFC 5545 3.1: lines of more than 75 octets are folded (CRLF and a space), never inside a
# character's UTF-8 bytes; translated texts are longer, and many not ASCII.
LINE_OCTETS: Final = 75


def text_value(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, newlines as \\n."""
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """``line`` folded into lines of at most 75 octets (a continuation starts with a space)."""
    parts: list[str] = []
    current = ""
    size = 0
    for character in line:
        octets = len(character.encode())
        limit = LINE_OCTETS if not parts else LINE_OCTETS - 1  # the space counts
        if size + octets > limit:
            parts.append(current)
            current, size = "", 0
        current += character
        size += octets
    parts.append(current)
    return "\r\n ".join(parts)


def calendar(assessment: Assessment, *, checkin_url: str) -> str:
    """The calendar file for ``assessment``'s check-ins; ``checkin_url`` the private link."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//backaudit//check-ins//EN"]
    # Each text says its language (RFC 5545 3.2.10), as a page's lang does.
    tagged = f";LANGUAGE={current_language().html_lang}:"
    for weeks in checkin_dates.DUE_WEEKS:
        day = checkin_dates.plan_started(assessment) + timedelta(weeks=weeks)
        description = (
            gettext("Time for your %(weeks)s-week back pain check-in: %(url)s")
            % {"weeks": weeks, "url": checkin_url}
            + "\n"
            + gettext(
                "This link opens your answers: keep it to yourself. Delete this event (and your"
                " result, on its page) when you no longer need them."
            )
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{assessment.id}-week-{weeks}@backaudit",
            f"DTSTAMP:{assessment.created_at:%Y%m%dT%H%M%SZ}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
            "SUMMARY"
            + tagged
            + text_value(gettext("Back pain check-in (%(weeks)s weeks)") % {"weeks": weeks}),
            "DESCRIPTION" + tagged + text_value(description),
            f"URL:{checkin_url}",
            # A reminder at 9 in the morning of the day (RFC 5545 3.6.6: an all-day event
            # starts at midnight, the alarm 9 hours after). No link in it: the event has it.
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "DESCRIPTION"
            + tagged
            + text_value(
                gettext("Your %(weeks)s-week back pain check-in is due today") % {"weeks": weeks}
            ),
            "TRIGGER:PT9H",
            "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
