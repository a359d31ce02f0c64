"""Each result's PDF, kept once made (table result_pdf), so that asking again costs nothing.

A PDF is found by the SHA-256 of the page it is made from. The page already shows a
correction, a check-in or a clinician's release, so any of them makes a new key and the old
PDF is simply not found: nothing has to remember to invalidate it. One row per assessment (the
latest); it goes when the assessment is erased (ON DELETE CASCADE) or its link is removed.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.models import ResultPdf


def page_key(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


def stored(session: Session, assessment_id: uuid.UUID, html_sha256: str) -> bytes | None:
    """The PDF kept for this version of the result's page, if any."""
    return session.exec(
        select(ResultPdf.pdf).where(
            ResultPdf.assessment_id == assessment_id, ResultPdf.html_sha256 == html_sha256
        )
    ).first()


def keep(
    session: Session, assessment_id: uuid.UUID, html_sha256: str, pdf: bytes, now: datetime
) -> None:
    """Keep ``pdf`` as the assessment's, in place of any older one. One statement that inserts
    or replaces, so two requests that made the same PDF at once cannot collide on the key."""
    values = {"assessment_id": assessment_id, "html_sha256": html_sha256, "pdf": pdf}
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ResultPdf).values(**values, created_at=now)
    session.connection().execute(
        statement.on_conflict_do_update(
            index_elements=["assessment_id"],
            set_={"html_sha256": html_sha256, "pdf": pdf, "created_at": now},
        )
    )


def forget(session: Session, assessment_ids: Iterable[uuid.UUID]) -> None:
    """The kept PDFs of these assessments go (their result link was removed)."""
    session.connection().execute(
        delete(ResultPdf).where(col(ResultPdf.assessment_id).in_(list(assessment_ids)))
    )
