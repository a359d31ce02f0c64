"""The one write path: services.assessments.record, with the Evaluation its caller made."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import Session

from app.engine import AnswerError, Questionnaire, evaluate
from app.models import Assessment
from app.services import api_keys, assessments
from app.services.idempotency import IdempotencyConflictError
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO
from tests.support.records import stored_assessments


def api_client(db: Session) -> uuid.UUID:
    client, _ = api_keys.create_api_key(session=db, name="booking app")
    db.commit()
    return client.id


def test_it_stores_the_evaluation_it_is_given(db: Session, q: Questionnaire) -> None:
    evaluation = evaluate(q, EXAMPLE_ANSWERS)
    recorded = assessments.record(db, evaluation, channel="web")
    db.commit()

    [row] = stored_assessments(db)
    assert row.id == recorded.id
    assert row.answers == evaluation.answers
    assert row.result == recorded.result
    assert row.triage_level == recorded.result["triage"]["level"] == "self_care"
    assert row.questionnaire_version == q.version
    assert recorded.result_token is not None  # web and intake records get a result link
    assert not recorded.replayed


def test_incomplete_answers_are_refused_and_nothing_is_stored(
    db: Session, q: Questionnaire
) -> None:
    with pytest.raises(AnswerError) as refused:
        assessments.record(db, evaluate(q, SAFETY_ALL_NO), channel="api")
    assert {p.code for p in refused.value.problems} == {"required"}
    db.commit()
    assert stored_assessments(db) == []


def test_a_person_told_to_see_a_doctor_may_stop_without_a_plan(
    db: Session, q: Questionnaire
) -> None:
    answers = {**SAFETY_ALL_NO, "fever": True}
    recorded = assessments.record(db, evaluate(q, answers), channel="web", allow_incomplete=True)
    db.commit()
    assert recorded.result["triage"]["level"] != "self_care"
    assert recorded.result["plan"] is None
    assert stored_assessments(db)[0].complete is False


def test_an_idempotency_key_replays_the_first_record(db: Session, q: Questionnaire) -> None:
    client_id = api_client(db)
    options: dict[str, Any] = {
        "channel": "api",
        "api_client_id": client_id,
        "idempotency_key": "k-1",
        "given": EXAMPLE_ANSWERS,
    }
    first = assessments.record(db, evaluate(q, EXAMPLE_ANSWERS), **options)
    db.commit()
    again = assessments.record(db, evaluate(q, EXAMPLE_ANSWERS), **options)
    db.commit()

    assert again.replayed
    assert not first.replayed
    assert (again.id, again.result) == (first.id, first.result)
    assert len(stored_assessments(db)) == 1


def test_an_idempotency_key_with_other_answers_is_a_conflict(db: Session, q: Questionnaire) -> None:
    client_id = api_client(db)
    assessments.record(
        db,
        evaluate(q, EXAMPLE_ANSWERS),
        channel="api",
        api_client_id=client_id,
        idempotency_key="k-1",
        given=EXAMPLE_ANSWERS,
    )
    db.commit()
    other = {**EXAMPLE_ANSWERS, "age": 41}
    with pytest.raises(IdempotencyConflictError):
        assessments.record(
            db,
            evaluate(q, other),
            channel="api",
            api_client_id=client_id,
            idempotency_key="k-1",
            given=other,
        )
    assert len(stored_assessments(db)) == 1


def test_the_loser_of_a_race_for_one_key_gets_the_winners_record(
    db: Session, q: Questionnaire, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests with one key can both find no earlier record; the database's unique
    constraint lets one insert, and the other answers with the winner's record."""
    client_id = api_client(db)
    options: dict[str, Any] = {
        "channel": "api",
        "api_client_id": client_id,
        "idempotency_key": "k-race",
        "given": EXAMPLE_ANSWERS,
    }
    winner = assessments.record(db, evaluate(q, EXAMPLE_ANSWERS), **options)
    db.commit()

    # The loser looked before the winner committed: it saw no earlier record.
    looks: list[str] = []
    real_find = assessments.find_by_idempotency_key

    def find_too_early(session: Session, **key: Any) -> Assessment | None:
        looks.append(key["idempotency_key"])
        return None if len(looks) == 1 else real_find(session, **key)

    monkeypatch.setattr(assessments, "find_by_idempotency_key", find_too_early)
    loser = assessments.record(db, evaluate(q, EXAMPLE_ANSWERS), **options)
    db.commit()

    assert looks == ["k-race", "k-race"]  # looked, lost the insert, looked again
    assert loser.replayed
    assert loser.id == winner.id
    assert len(stored_assessments(db)) == 1
