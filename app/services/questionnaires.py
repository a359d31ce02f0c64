"""The loaded questionnaires, read once at start-up (loading validates them completely)."""

from __future__ import annotations

from pathlib import Path

from app.engine import Questionnaire, load_directory


class UnknownQuestionnaireError(LookupError):
    pass


class Registry:
    def __init__(self, questionnaires: dict[str, Questionnaire], default_id: str) -> None:
        if default_id not in questionnaires:
            raise LookupError(f"default questionnaire {default_id!r} is not in the definitions")
        self._by_id = questionnaires
        self.default_id = default_id

    @classmethod
    def load(cls, directory: Path, default_id: str) -> Registry:
        return cls(load_directory(directory), default_id)

    def get(self, questionnaire_id: str) -> Questionnaire:
        try:
            return self._by_id[questionnaire_id]
        except KeyError:
            raise UnknownQuestionnaireError(questionnaire_id) from None

    @property
    def default(self) -> Questionnaire:
        return self._by_id[self.default_id]

    def all(self) -> list[Questionnaire]:
        return list(self._by_id.values())
