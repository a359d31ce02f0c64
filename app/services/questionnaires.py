"""The loaded questionnaires, read once at start-up (loading validates them completely).

Every version of a questionnaire is loaded: new interviews use the newest, and a stored
submission is shown with the version that produced it, never re-read against today's rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Final

from app.engine import Level, Questionnaire, load_versions, version_key

# What new interviews and the API use when no questionnaire is named: the one audit this app
# runs (the API's examples name it too), so not a setting.
DEFAULT_QUESTIONNAIRE: Final = "low-back-audit"


class UnknownQuestionnaireError(LookupError):
    pass


class VersionNotAcceptedError(LookupError):
    """An API client asked for a version that is not known, or no longer accepted."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Registry:
    def __init__(self, questionnaires: Iterable[Questionnaire], default_id: str) -> None:
        self._versions: dict[str, dict[str, Questionnaire]] = {}
        for q in questionnaires:
            self._versions.setdefault(q.id, {})[q.version] = q
        # The newest version of each: what new interviews use.
        self._by_id = {
            qid: max(versions.values(), key=lambda q: version_key(q.version))
            for qid, versions in self._versions.items()
        }
        if default_id not in self._by_id:
            raise LookupError(f"default questionnaire {default_id!r} is not in the definitions")
        self.default_id = default_id
        # Every triage level a stored record can have, the default questionnaire's first: the
        # staff queue's filters, names and order come from the definitions, not from code.
        by_code: dict[str, Level] = {}
        for q in (self._by_id[default_id], *self._by_id.values()):
            for level in q.levels:
                by_code.setdefault(level.code, level)
        self.levels: tuple[Level, ...] = tuple(by_code.values())
        self.urgent_codes: frozenset[str] = frozenset(lv.code for lv in self.levels if lv.urgent)
        # A follow-up check-in ending at one of these needs the clinic (every level but a
        # self-care one): the queue flags it like a submission's level until it is reviewed.
        self_care = {q.self_care_level for q in self._by_id.values()}
        self.flag_codes: frozenset[str] = frozenset(
            lv.code for lv in self.levels if lv.code not in self_care
        )

    @classmethod
    def load(
        cls, directory: Path, default_id: str, help_lines: Mapping[str, str] | None = None
    ) -> Registry:
        """Every version in ``directory``; ``help_lines`` (Settings.help_lines.placeholders())
        go into the texts that name a help line, so the results, the API, FHIR and the pages
        all say the deployment's numbers."""
        return cls(load_versions(directory, help_lines=help_lines), default_id)

    def get(self, questionnaire_id: str) -> Questionnaire:
        """The newest version: the one new interviews use."""
        try:
            return self._by_id[questionnaire_id]
        except KeyError:
            raise UnknownQuestionnaireError(questionnaire_id) from None

    def for_record(self, questionnaire_id: str, version: str | None = None) -> Questionnaire:
        """The questionnaire a stored record was made with: its own version when it is
        loaded, else the newest version of that id, else the default one."""
        versions = self._versions.get(questionnaire_id, {})
        if version is not None and version in versions:
            return versions[version]
        return self._by_id.get(questionnaire_id) or self.default

    def exact(self, questionnaire_id: str, version: str) -> Questionnaire:
        """That version of that questionnaire, or UnknownQuestionnaireError."""
        try:
            return self._versions[questionnaire_id][version]
        except KeyError:
            raise UnknownQuestionnaireError(f"{questionnaire_id} {version}") from None

    def for_client(self, questionnaire_id: str, version: str | None, today: date) -> Questionnaire:
        """The version an API client asked for: the newest when none is named; an older one
        while its ``accept_until`` day has not passed (a client not yet sending a new version's
        questions pins the old one). VersionNotAcceptedError names the current version."""
        newest = self.get(questionnaire_id)
        if version is None or version == newest.version:
            return newest
        q = self._versions.get(questionnaire_id, {}).get(version)
        if q is None:
            raise VersionNotAcceptedError(
                f"{questionnaire_id} has no version {version}; the current version is "
                f"{newest.version}"
            )
        if q.accept_until is None or q.accept_until < today:
            until = f" (accepted until {q.accept_until.isoformat()})" if q.accept_until else ""
            raise VersionNotAcceptedError(
                f"version {version} of {questionnaire_id} is no longer accepted{until}; send "
                f"the current version, {newest.version}"
            )
        return q

    def newer_version(self, questionnaire_id: str, version: str) -> str | None:
        """The newest version of this questionnaire, when it is newer than ``version``."""
        newest = self._by_id.get(questionnaire_id)
        if newest is None or version_key(newest.version) <= version_key(version):
            return None
        return newest.version

    def versions(self, questionnaire_id: str) -> list[Questionnaire]:
        """Every loaded version, oldest first."""
        versions = self._versions.get(questionnaire_id, {})
        return sorted(versions.values(), key=lambda q: version_key(q.version))

    @property
    def default(self) -> Questionnaire:
        return self._by_id[self.default_id]

    def all(self) -> list[Questionnaire]:
        """The newest version of each questionnaire."""
        return list(self._by_id.values())

    def level(self, code: str, questionnaire_id: str | None = None) -> Level | None:
        """The level with this code: of the record's own questionnaire when it is loaded."""
        q = self._by_id.get(questionnaire_id or "")
        if q is not None and code in q.level_by_code:
            return q.level_by_code[code]
        return next((level for level in self.levels if level.code == code), None)

    def follow_up(self, questionnaire_id: str) -> Questionnaire | None:
        """The newest questionnaire that ``follows`` this one (its check-in), if any."""
        return next((q for q in self.all() if q.follows == questionnaire_id), None)
