"""The loaded questionnaires, read once at start-up (loading validates them completely).

Every version of a questionnaire is loaded: new interviews use the newest, and a stored
submission is shown with the version that produced it, never re-read against today's rules.

Each may be held in other languages too (translations beside the definitions, see
app/engine/_translations.py): the same questionnaire, read again with translated texts, so its
questions, conditions, levels and rules are the English ones and only what the person reads
differs. English is the base language. A language is *offered* when its translation is
``reviewed``, or when the deployment offers draft translations (``LANGUAGES_OFFER_DRAFT``: on in
development and tests, off in production); asking for a language that is not offered, or that a
questionnaire (or version) has no translation into, gives the English questionnaire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from app.engine import (
    BASE_LANGUAGE,
    DefinitionError,
    Level,
    Pairing,
    Questionnaire,
    load_translated,
    validate_path,
    version_key,
)

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


@dataclass(frozen=True, slots=True)
class Language:
    """A language the questionnaires are offered in."""

    tag: str  # BCP 47: "en", "pl", "en-XA"
    name: str  # in the language itself, for a switcher: "English", "Polski"
    status: str  # "base" (English), "reviewed", or "draft" (offered only where drafts are)


ENGLISH: Final = Language(BASE_LANGUAGE, "English", "base")


class Registry:
    def __init__(
        self,
        questionnaires: Iterable[Questionnaire],
        default_id: str,
        translated: Iterable[Questionnaire] = (),
        languages: Iterable[Language] = (),
    ) -> None:
        """``translated``: questionnaires in other languages (each the translation of one of
        ``questionnaires``, same id and version), all offered; ``languages`` names them."""
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
        self._translated: dict[tuple[str, str, str], Questionnaire] = {}
        for q in translated:
            if q.version not in self._versions.get(q.id, {}):
                raise LookupError(f"{q.id} {q.version} ({q.language}): no English version of it")
            self._translated[(q.id, q.version, q.language)] = q
        named = {language.tag: language for language in languages}
        tags = sorted({lang for _, _, lang in self._translated})
        # English first, then the others by tag: the order a switcher lists them in.
        self.languages: tuple[Language, ...] = (
            ENGLISH,
            *(named.get(tag, Language(tag, tag, "draft")) for tag in tags),
        )
        self.language_tags: frozenset[str] = frozenset(lang.tag for lang in self.languages)

    @classmethod
    def load(
        cls,
        directory: Path,
        default_id: str,
        help_lines: Mapping[str, str] | None = None,
        *,
        offer_draft: bool = False,
        pseudo_locale: bool = False,
    ) -> Registry:
        """Every version in ``directory``, and every translation beside them (all are checked:
        a broken one stops the app starting, offered or not); ``help_lines``
        (Settings.help_lines.placeholders()) go into the texts that name a help line, so the
        results, the API, FHIR and the pages all say the deployment's numbers.
        ``offer_draft``: draft translations are offered too (else only reviewed ones are read);
        ``pseudo_locale``: the generated en-XA (a draft) too, for tests. Raises
        DefinitionError."""
        loaded: list[Questionnaire] = []
        pairs: list[Pairing] = []
        problems = validate_path(
            directory,
            loaded=loaded,
            help_lines=help_lines,
            translations=pairs,
            pseudo=pseudo_locale and offer_draft,
        )
        if problems:
            raise DefinitionError(problems)
        offered = [p for p in pairs if offer_draft or is_reviewed(p)]
        languages: dict[str, Language] = {}
        for p in offered:
            status = "reviewed" if is_reviewed(p) else "draft"
            known = languages.get(p.translation.language)
            if known is None or known.status == "reviewed":
                languages[p.translation.language] = Language(
                    p.translation.language, p.translation.name, status
                )
        translated = [load_translated(p, help_lines=help_lines) for p in offered]
        return cls(loaded, default_id, translated, languages.values())

    def language(self, tag: str | None) -> str:
        """The language a request for ``tag`` gets: ``tag`` when it is offered, else English."""
        return tag if tag in self.language_tags and tag is not None else BASE_LANGUAGE

    def _in(self, q: Questionnaire, language: str | None) -> Questionnaire:
        if language is None or language == q.language:
            return q
        return self._translated.get((q.id, q.version, language), q)

    def get(self, questionnaire_id: str, language: str | None = None) -> Questionnaire:
        """The newest version: the one new interviews use.

        ``language`` (a BCP 47 tag, e.g. from ``negotiate``): that questionnaire with its texts
        in that language when it is offered and this questionnaire has a translation into it;
        else the English one. Check ``q.language`` for the language you got (for ``lang`` and
        ``Content-Language``). Only texts differ: ids, codes, conditions and rules are the same,
        so answers, results' codes and stored records do not depend on the language."""
        try:
            return self._in(self._by_id[questionnaire_id], language)
        except KeyError:
            raise UnknownQuestionnaireError(questionnaire_id) from None

    def for_record(
        self, questionnaire_id: str, version: str | None = None, language: str | None = None
    ) -> Questionnaire:
        """The questionnaire a stored record was made with: its own version when it is
        loaded, else the newest version of that id, else the default one; in ``language``
        when that version has an offered translation into it (else English, as ``get``)."""
        versions = self._versions.get(questionnaire_id, {})
        if version is not None and version in versions:
            return self._in(versions[version], language)
        return self._in(self._by_id.get(questionnaire_id) or self.default, language)

    def exact(
        self, questionnaire_id: str, version: str, language: str | None = None
    ) -> Questionnaire:
        """That version of that questionnaire (in ``language`` as ``get``), or
        UnknownQuestionnaireError."""
        try:
            return self._in(self._versions[questionnaire_id][version], language)
        except KeyError:
            raise UnknownQuestionnaireError(f"{questionnaire_id} {version}") from None

    def translation_of(self, q: Questionnaire, language: str) -> Questionnaire | None:
        """``q``'s version in ``language`` when it has an offered translation into it."""
        if language == q.language:
            return q
        return self._translated.get((q.id, q.version, language))

    def translations(self, q: Questionnaire) -> list[Questionnaire]:
        """Every offered translation of ``q``'s version (not English), by language tag."""
        return [
            self._translated[key]
            for key in sorted(self._translated)
            if key[0] == q.id and key[1] == q.version
        ]

    def negotiate(self, accept_language: str | None) -> str:
        """The offered language an ``Accept-Language`` header prefers most (RFC 9110: q values,
        a tag or its primary language, ``*``); English when none is offered."""
        return negotiate(accept_language, [lang.tag for lang in self.languages])

    def for_client(
        self,
        questionnaire_id: str,
        version: str | None,
        today: date,
        language: str | None = None,
    ) -> Questionnaire:
        """The version an API client asked for: the newest when none is named; an older one
        while its ``accept_until`` day has not passed (a client not yet sending a new version's
        questions pins the old one). VersionNotAcceptedError names the current version. In
        ``language`` as ``get``."""
        newest = self.get(questionnaire_id)
        if version is None or version == newest.version:
            return self._in(newest, language)
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
        return self._in(q, language)

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


def is_reviewed(pairing: Pairing) -> bool:
    """A questionnaire's translation is reviewed when its exercise blocks' one is too."""
    return pairing.translation.reviewed and (pairing.blocks is None or pairing.blocks.reviewed)


def negotiate(accept_language: str | None, offered: list[str]) -> str:
    """The first of ``offered`` (tags, the base language first) that an ``Accept-Language``
    header prefers most: an exact tag, else its primary language (``pl-PL`` gets ``pl``), else
    ``*``; ties keep the header's order. The base language when nothing matches."""
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and weight > 0:
            wanted.append((-weight, index, tag.lower()))
    by_lower = {tag.lower(): tag for tag in offered}
    for _, _, tag in sorted(wanted):
        if tag == "*":
            return offered[0] if offered else BASE_LANGUAGE
        if tag in by_lower:
            return by_lower[tag]
        primary = tag.split("-")[0]
        if primary in by_lower:
            return by_lower[primary]
    return BASE_LANGUAGE
