"""Fixtures for the patient pages: clinics and intake links made directly in the database."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import Session

from app.services.intake import create_link


def make_link(
    db: Session,
    clinic_id: uuid.UUID,
    *,
    single_use: bool = True,
    valid_for: timedelta = timedelta(days=7),
) -> str:
    _, token = create_link(
        db,
        clinic_id=clinic_id,
        label="patient 12",
        single_use=single_use,
        valid_for=valid_for,
        created_by_id=None,
    )
    db.commit()
    return token
