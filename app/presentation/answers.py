"""A record's stored answers by section, in words: the staff submission page and the patient's
result page (the answers for their doctor) both list them so.

The answers as recorded, with the questions of the version that asked them: never evaluated
again against today's definition. An answer that version does not have is still listed, as
stored, never silently hidden.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

from app import i18n
from app.answer_text import answer_text
from app.engine import Questionnaire
from app.i18n import N_, gettext
from app.services.interview import answer_rows
from app.services.questionnaires import Registry, UnknownQuestionnaireError

OTHER_ANSWERS: Final = N_("Other answers")


@dataclass(frozen=True, slots=True)
class AnswerLine:
    question_id: str
    text: str  # the question as asked; an answer the version does not have: its stored id
    lines: list[str]  # the answer in words: one line per option of a multiple choice
    behind_reason: bool = False  # a triage rule that fired read this answer

    @property
    def answer(self) -> str:
        """The answer on one line."""
        return ", ".join(self.lines)


Section = tuple[str, list[AnswerLine]]


def answers_by_section(
    registry: Registry,
    questionnaire_id: str,
    version: str,
    answers: Mapping[str, Any],
    *,
    reasons: Collection[str] = (),
    unknown_title: str | None = None,
    language: str | None = None,
) -> list[Section]:
    """Every stored answer in question order, by section, then the answers the version does
    not have under "Other answers". ``reasons``: the codes of the triage reasons, to mark the
    answers behind them. When the version is not loaded at all, every answer is listed as
    stored: under ``unknown_title`` if given (always), else as other answers.

    ``language``: the answers as a person in that language saw them (for staff, whose pages
    are English): the same stored ids, in words from that language's definition and catalog.
    None: in the current language."""
    if language is not None:
        with i18n.language(language):
            return answers_by_section(
                registry, questionnaire_id, version, answers,
                reasons=reasons, unknown_title=unknown_title,
            )  # fmt: skip
    try:
        q = _definition(registry, questionnaire_id, version)
    except UnknownQuestionnaireError:
        everything = [_as_stored(k, v) for k, v in answers.items()]
        if unknown_title is not None:
            return [(unknown_title, everything)]
        return [(gettext(OTHER_ANSWERS), everything)] if everything else []
    behind = q.questions_behind(reasons)
    grouped = [
        (
            title,
            [
                AnswerLine(
                    r.question.id,
                    r.question.text,
                    answer_text(r.question, r.value),
                    r.question.id in behind,
                )
                for r in rows
            ],
        )
        for title, rows in answer_rows(q, answers)
    ]
    shown = {line.question_id for _, lines in grouped for line in lines}
    rest = [_as_stored(k, v) for k, v in answers.items() if k not in shown]
    return grouped + ([(gettext(OTHER_ANSWERS), rest)] if rest else [])


def _definition(registry: Registry, questionnaire_id: str, version: str) -> Questionnaire:
    """The version that asked, with its texts in the current language (English where that
    language has no translation of it offered)."""
    return registry.exact(questionnaire_id, version, language=i18n.current_language().code)


def _as_stored(key: str, value: Any) -> AnswerLine:
    return AnswerLine(key, key, [str(value)])
