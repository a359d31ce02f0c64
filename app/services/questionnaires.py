"""The loaded questionnaires, read once at start-up (loading validates them completely)."""

from __future__ import annotations

from pathlib import Path

from app.engine import Level, Questionnaire, load_directory


class UnknownQuestionnaireError(LookupError):
    pass


class Registry:
    def __init__(self, questionnaires: dict[str, Questionnaire], default_id: str) -> None:
        if default_id not in questionnaires:
            raise LookupError(f"default questionnaire {default_id!r} is not in the definitions")
        self._by_id = questionnaires
        self.default_id = default_id
        # Every triage level a stored record can have, the default questionnaire's first: the
        # staff queue's filters, names and order come from the definitions, not from code.
        by_code: dict[str, Level] = {}
        for q in (questionnaires[default_id], *questionnaires.values()):
            for level in q.levels:
                by_code.setdefault(level.code, level)
        self.levels: tuple[Level, ...] = tuple(by_code.values())
        self.urgent_codes: frozenset[str] = frozenset(lv.code for lv in self.levels if lv.urgent)

    @classmethod
    def load(cls, directory: Path, default_id: str) -> Registry:
        return cls(load_directory(directory), default_id)

    def get(self, questionnaire_id: str) -> Questionnaire:
        try:
            return self._by_id[questionnaire_id]
        except KeyError:
            raise UnknownQuestionnaireError(questionnaire_id) from None

    def for_record(self, questionnaire_id: str) -> Questionnaire:
        """A stored record's questionnaire, or the default one if it is no longer loaded."""
        return self._by_id.get(questionnaire_id) or self.default

    @property
    def default(self) -> Questionnaire:
        return self._by_id[self.default_id]

    def all(self) -> list[Questionnaire]:
        return list(self._by_id.values())

    def level(self, code: str, questionnaire_id: str | None = None) -> Level | None:
        """The level with this code: of the record's own questionnaire when it is loaded."""
        q = self._by_id.get(questionnaire_id or "")
        if q is not None and code in q.level_by_code:
            return q.level_by_code[code]
        return next((level for level in self.levels if level.code == code), None)
