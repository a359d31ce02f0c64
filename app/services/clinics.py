"""Clinics: the unit that owns staff, intake links, API keys and submissions."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from app.models import Clinic


class ClinicNotFoundError(LookupError):
    pass


def create_clinic(session: Session, *, name: str) -> Clinic:
    name = name.strip()
    if not name:
        raise ValueError("a clinic needs a name")
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
