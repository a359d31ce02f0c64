"""`backaudit link create`: an intake link for a clinic, as the staff page makes one (the same
service, and an audit event that says it came from the command line)."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from app.config import get_settings
from app.migrate import command_session
from app.models import utcnow
from app.services import clinics, intake

from .exits import EXIT_OK, EXIT_PROBLEM

LONGEST: Final = timedelta(days=max(intake.VALID_FOR_DAYS))
DEFAULT_DAYS: Final = 14  # as the staff page's form


def register(sub: Any) -> None:
    link = sub.add_parser("link", help="intake links").add_subparsers(
        title="link commands", metavar="ACTION"
    )
    p = link.add_parser("create", help="make an intake link for a clinic; prints it (shown once)")
    p.add_argument("--clinic", required=True, help="clinic id, or its exact name")
    p.add_argument(
        "--single-use",
        action="store_true",
        help="the link works for one submission (default: many, as on a poster)",
    )
    p.add_argument(
        "--expires",
        default=str(DEFAULT_DAYS),
        metavar="DAYS_OR_DATE",
        help=f"how long it works: a number of days (default {DEFAULT_DAYS}), or the last day"
        f" as YYYY-MM-DD in the clinic's time zone; at most {LONGEST.days} days",
    )
    p.add_argument("--label", help="a patient reference staff see (never the patient)")
    p.set_defaults(handler=cmd_link_create)


def cmd_link_create(args: argparse.Namespace) -> int:
    settings = get_settings()
    with command_session(settings.database.url) as session:
        try:
            clinic = clinics.find_clinic(session, id_or_name=args.clinic)
            valid_for = _valid_for(args.expires, clinics.zone_of(clinic))
            link, token = intake.create_link_by_operator(
                session,
                clinic,
                label=args.label,
                single_use=args.single_use,
                valid_for=valid_for,
            )
        except (clinics.ClinicNotFoundError, ValueError) as error:
            print(f"backaudit: {error}; no link was made", file=sys.stderr)
            return EXIT_PROBLEM
        session.commit()
        until = link.expires_at.astimezone(clinics.zone_of(clinic))
        use = "one submission" if link.single_use else "many submissions"
        print(f"intake link for {clinic.name}, for {use}, works until {until:%d %b %Y %H:%M %Z}")
        print(f"{settings.public_url.rstrip('/')}/intake/{token}")
        print("(shown once: only its hash is kept; revoke it on the staff pages' Intake links)")
    return EXIT_OK


_DAYS: Final = re.compile(r"\d{1,4}")


def _valid_for(expires: str, zone: Any) -> timedelta:
    """--expires as how long from now: N days, or until the end of a day in ``zone``."""
    text = expires.strip()
    if _DAYS.fullmatch(text):
        length = timedelta(days=int(text))
    else:
        try:
            last = date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"--expires: {expires!r} is neither a number of days nor a date YYYY-MM-DD"
            ) from None
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        length = end - utcnow()
    if length <= timedelta(0):
        raise ValueError(f"--expires: {expires!r} is not in the future")
    if length > LONGEST:
        raise ValueError(f"--expires: a link works for at most {LONGEST.days} days")
    return length
