"""What the database holds, read afresh: a request commits in its own session, so the test's
session forgets what it had loaded first."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Assessment


def stored_assessments(db: Session) -> list[Assessment]:
    db.expire_all()
    return list(db.exec(select(Assessment)).all())
