"""Clinics: the unit that owns staff, intake links, API keys and submissions, and the contact
details its patients see."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import tzinfo
from functools import lru_cache
from typing import Final

from sqlmodel import Session, col, select

from app.models import Clinic
from app.services.text import control_character_problem

DEFAULT_TIME_ZONE: Final = "Europe/London"


class ClinicNotFoundError(LookupError):
    pass


NAME_MAX: Final = 200


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a clinic's name, for people; None if it can. The rule for every
    one-line text staff type (app/services/text.py): the name goes into e-mail subjects."""
    name = name.strip()
    if not name:
        return "A clinic needs a name"
    if len(name) > NAME_MAX:
        return f"The name must be {NAME_MAX} characters or fewer"
    if control_character_problem(name):
        return "Remove tabs, line breaks and other control characters from the name"
    return None


def create_clinic(session: Session, *, name: str) -> Clinic:
    """ValueError, with a message for people, if ``name`` cannot be a clinic's name."""
    problem = name_problem(name)
    if problem:
        raise ValueError(problem)
    name = name.strip()
    clinic = Clinic(name=name)
    session.add(clinic)
    session.flush()
    return clinic


def find_clinic(session: Session, *, id_or_name: str) -> Clinic:
    """By id, or by exact name when exactly one clinic has it."""
    try:
        clinic = session.get(Clinic, uuid.UUID(id_or_name))
    except ValueError:
        clinic = None
    if clinic is not None:
        return clinic
    matches = session.exec(select(Clinic).where(Clinic.name == id_or_name.strip())).all()
    if len(matches) != 1:
        raise ClinicNotFoundError(
            f"no clinic with id or name {id_or_name!r}"
            if not matches
            else f"{len(matches)} clinics are called {id_or_name!r}: use the id"
        )
    return matches[0]


def list_clinics(session: Session) -> list[Clinic]:
    return list(session.exec(select(Clinic).order_by(col(Clinic.created_at))).all())


# -- contact details and time zone ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClinicDetails:
    """What an admin types on the "Clinic details" page (or gives the CLI): each stripped, an
    empty one meaning "not given" (the time zone then falls back to the default)."""

    phone: str = ""
    contact_email: str = ""
    address: str = ""
    time_zone: str = DEFAULT_TIME_ZONE

    @classmethod
    def of(cls, clinic: Clinic) -> ClinicDetails:
        return cls(
            phone=clinic.phone or "",
            contact_email=clinic.contact_email or "",
            address=clinic.address or "",
            time_zone=clinic.time_zone,
        )


# Digits, spaces and the usual punctuation of a phone number, with at least 6 digits.
_PHONE: Final = re.compile(r"\+?[0-9 ()\-.]+")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_ADDRESS_LINE_BREAKS: Final = re.compile(r"\r\n?|\n")


def details_problems(details: ClinicDetails) -> dict[str, str]:
    """A message per field that cannot be stored, each naming its field; empty when all can."""
    problems: dict[str, str] = {}
    phone = details.phone.strip()
    if phone and (
        len(phone) > 40 or not _PHONE.fullmatch(phone) or sum(c.isdigit() for c in phone) < 6
    ):
        problems["phone"] = (
            "Enter the phone number in digits, with spaces or a leading + if you like, "
            "for example 01632 960 001"
        )
    email = details.contact_email.strip()
    if email and (len(email) > 320 or not _EMAIL.fullmatch(email)):
        problems["contact_email"] = "Enter the e-mail address like name@example.org"
    address = details.address.strip()
    if len(address) > 500:
        problems["address"] = "The address must be 500 characters or fewer"
    elif control_character_problem(_ADDRESS_LINE_BREAKS.sub(" ", address)):
        problems["address"] = "Remove tabs and other control characters from the address"
    if time_zone_problem(details.time_zone):
        problems["time_zone"] = time_zone_problem(details.time_zone) or ""
    return problems


def time_zone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone this server knows, for people; None if it is."""
    name = name.strip()
    if not name:
        return "Enter the time zone, for example Europe/London"
    if name in _known_zones():
        return None
    return (
        "The time zone must be a name from the time zone database, such as Europe/London "
        "or America/New_York"
    )


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def update_details(session: Session, clinic: Clinic, details: ClinicDetails) -> list[str]:
    """Store valid details (ValueError if ``details_problems`` finds any); the names of the
    fields that changed, for the audit log (never their values)."""
    problems = details_problems(details)
    if problems:
        raise ValueError("; ".join(problems.values()))
    new = {
        "phone": details.phone.strip() or None,
        "contact_email": details.contact_email.strip() or None,
        "address": _ADDRESS_LINE_BREAKS.sub("\n", details.address.strip()) or None,
        "time_zone": details.time_zone.strip(),
    }
    changed = [name for name, value in new.items() if getattr(clinic, name) != value]
    for name in changed:
        setattr(clinic, name, new[name])
    if changed:
        session.add(clinic)
        session.flush()
    return changed


def zone_of(clinic: Clinic) -> tzinfo:
    """The clinic's time zone (the default for a name this server no longer knows)."""
    try:
        return zoneinfo.ZoneInfo(clinic.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
