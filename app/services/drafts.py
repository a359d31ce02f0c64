"""Interviews in progress: the answers someone has given so far, kept on the server.

A draft is found by a random token (kept in a cookie; only its hash is stored) or, for a
single-use intake link, by the link itself, so that opening the link on another device resumes
the same interview. Services never commit: the request that called them does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final, Literal

from sqlmodel import Session, col, delete, select

from app.engine import Questionnaire
from app.models import Draft, utcnow
from app.security import hash_token, new_token

# An unfinished interview is kept this long after its last change, then treated as gone.
DRAFT_LIFETIME: Final = timedelta(days=7)

DraftChannel = Literal["web", "intake"]


def find_by_token(
    session: Session, token: str | None, *, intake_link_id: uuid.UUID | None
) -> Draft | None:
    """The live draft with this token, for this intake link (or for the web form when None)."""
    if not token:
        return None
    draft = session.exec(select(Draft).where(Draft.token_hash == hash_token(token))).first()
    if draft is None or draft.intake_link_id != intake_link_id:
        return None
    return _live(session, draft)


def find_for_link(session: Session, intake_link_id: uuid.UUID) -> Draft | None:
    """The draft of a single-use intake link (there is at most one interview per such link)."""
    draft = session.exec(
        select(Draft)
        .where(Draft.intake_link_id == intake_link_id)
        .order_by(col(Draft.updated_at).desc())
    ).first()
    return None if draft is None else _live(session, draft)


def start_draft(
    session: Session,
    *,
    questionnaire_id: str,
    channel: DraftChannel,
    intake_link_id: uuid.UUID | None = None,
) -> tuple[Draft, str]:
    """A new, empty draft and its token (only the hash is stored).

    Abandoned drafts past their lifetime are deleted here too: health answers nobody will come
    back for are not kept (an indexed delete, cheap next to the insert)."""
    purge_stale(session)
    token = new_token()
    draft = Draft(
        token_hash=hash_token(token),
        questionnaire_id=questionnaire_id,
        answers={},
        channel=channel,
        intake_link_id=intake_link_id,
    )
    session.add(draft)
    session.flush()
    return draft, token


def save_answers(session: Session, draft: Draft, answers: Mapping[str, Any]) -> None:
    draft.answers = dict(answers)  # a new object, so the JSON column is seen as changed
    draft.updated_at = utcnow()
    session.add(draft)
    session.flush()


def delete_draft(session: Session, draft: Draft) -> None:
    session.delete(draft)
    session.flush()


def purge_stale(session: Session) -> int:
    """Delete every draft untouched for longer than its lifetime; returns how many."""
    result = session.exec(delete(Draft).where(col(Draft.updated_at) < utcnow() - DRAFT_LIFETIME))
    return int(result.rowcount or 0)


def _live(session: Session, draft: Draft) -> Draft | None:
    if draft.updated_at < utcnow() - DRAFT_LIFETIME:
        session.delete(draft)  # stale answers are not kept around; removed with the next commit
        session.flush()
        return None
    return draft


def usable_answers(q: Questionnaire, stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored answers the current definition still accepts (a file may change under a draft)."""
    usable: dict[str, Any] = {}
    for key, value in stored.items():
        question = q.question_by_id.get(key)
        if question is not None and question.check(value)[1] is None:
            usable[key] = value
    return usable
