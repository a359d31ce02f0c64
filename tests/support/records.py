"""What the database holds, read afresh: a request commits in its own session, so the test's
session forgets what it had loaded first."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.models import Assessment, ResultContact


def stored_assessments(db: Session) -> list[Assessment]:
    db.expire_all()
    return list(db.exec(select(Assessment)).all())


def link_mail_recorded(engine: Engine) -> bool:
    """The result link e-mail of the one stored contact is recorded as sent (its sealed link
    gone). Wait for this before moving a test's clock on: a jump past the sender's lease would
    let a second sender claim the link again while the first records it."""
    with Session(engine) as session:
        return session.exec(select(ResultContact.link_due_at)).one() is None
