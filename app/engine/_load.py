"""Loading and validating definition files: the entry points, and the order of the work.

Everything that can be checked is checked while loading, once, so that evaluating answers later
cannot fail on the definition: unknown keys and ids, duplicates, references to missing questions
or options, type errors in conditions, cycles between derived values, questions that depend on
later answers, and questions that no answer path can reach. Every problem carries file and
line, and all of them are reported together.

``_fields`` reads typed values, ``_read`` the questionnaire's own parts, ``_plan`` the plan and
its exercise-blocks file, and ``_checks`` what needs every part at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from ._checks import StructureChecks
from ._errors import DefinitionError, DefinitionProblem
from ._fields import FieldReader
from ._help_lines import put_help_lines
from ._model import TRIAGE_LEVEL, PlanSpec, Questionnaire, Rule
from ._plan import load_exercise_blocks, read_blocks, read_plan
from ._read import QuestionnaireReader
from ._texts import put_texts
from ._translations import (
    BASE_LANGUAGE,
    Pairing,
    check_translations,
    is_translation,
    split_name,
)
from ._yaml import LDict, load_yaml


def load_questionnaire(
    path: str | Path,
    *,
    help_lines: Mapping[str, str] | None = None,
    translation: Pairing | None = None,
) -> Questionnaire:
    """Load and validate a questionnaire and the exercise-blocks file it names; ``help_lines``
    are put into its texts' help-line placeholders (app/engine/_help_lines.py).
    ``translation`` (checked by ``validate_path``): its texts go in place of the English ones
    before anything is read, so the translated questionnaire is read exactly as the English one
    is, and only its texts differ.

    Raises DefinitionError listing every problem in both files.
    """
    path = Path(path)
    r = FieldReader(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(
            [DefinitionProblem(str(path), 1, f"cannot read the file: {exc.strerror}")]
        ) from None
    raw, problems = load_yaml(text, str(path))
    r.problems.extend(problems)
    if raw is None and problems:
        raise DefinitionError(problems)
    top = r.mapping(
        raw,
        1,
        "questionnaire",
        (
            "id",
            "version",
            "title",
            "levels",
            "sections",
            "triage",
        ),
        (
            "description",
            "derived",
            "stop_when",
            "safety_net",
            "removed",
            "context",
            "progression",
            "trend",
            "follows",
            "contributors",
            "plan",
            "exercise_blocks",
            "accept_until",
        ),
    )
    if top is None:
        raise DefinitionError(r.problems)
    if translation is not None:
        put_texts(top, translation.translation.texts)
    put_help_lines(r, top, help_lines)
    q = _read_questionnaire(r, top, path, translation)
    if r.problems or q is None:
        raise DefinitionError(r.problems)
    return q


def _read_questionnaire(
    r: FieldReader, top: LDict, path: Path, translation: Pairing | None
) -> Questionnaire | None:
    """Each part in turn, since each may use the names read before it; then the checks that
    need every part."""
    parts = QuestionnaireReader(r, top)
    qid = parts.identifier()
    version = r.text(top, "version", "questionnaire") or ""
    if version and not version_key(version):
        r.problem(
            top.line_of("version"), f"questionnaire: 'version' must be like 2.0.0 (got {version!r})"
        )
    title = r.text(top, "title", "questionnaire") or ""
    description = r.text(top, "description", "questionnaire", required=False) or ""
    levels = parts.levels()
    context = parts.context()
    sections = parts.sections()
    parts.check_context(context)
    derived = parts.derived()
    trend = parts.trend(context, derived)
    parts.conditions(sections)
    rules = parts.rules(levels)
    levels = parts.level_advice(levels, rules)
    progression = parts.progression(rules)
    contributors = parts.contributors()
    blocks_path = path.parent / str(top.get("exercise_blocks", ""))
    blocks_texts = translation.blocks.texts if translation and translation.blocks else None
    blocks = read_blocks(r, blocks_path, blocks_texts) if "exercise_blocks" in top else {}
    # A follow-up questionnaire has no plan of its own: it moves the plan it follows.
    plan = (
        read_plan(r, top, parts.scope, contributors, blocks)
        if "plan" in top
        else PlanSpec(0, (), ())
    )
    stop_when = r.expr(top, "stop_when", "questionnaire", parts.scope)
    safety_net = parts.safety_net()
    removed = parts.removed()
    checks = StructureChecks(r, parts.questions, parts.scope, parts.derived_needs, parts.when_line)
    checks.answers_come_first(sections, context)
    checks.rules_not_circular(rules, levels, stop_when, context)
    checks.reachable(sections)  # last: it only runs on an otherwise valid file
    if r.problems:
        return None
    return Questionnaire(
        id=qid,
        version=version,
        title=title,
        description=description,
        path=str(path),
        sections=sections,
        derived=derived,
        levels=levels,
        rules=rules,
        contributors=contributors,
        plan=plan,
        exercise_blocks=blocks,
        stop_when=stop_when,
        safety_net=safety_net,
        removed=removed,
        context=context,
        progression=progression,
        trend=trend,
        follows=r.text(top, "follows", "questionnaire", required=False),
        accept_until=_date(r, top, "accept_until"),
        language=translation.translation.language if translation else BASE_LANGUAGE,
        pages=tuple(page for section in sections for page in section.pages),
        questions=tuple(parts.questions.values()),
        question_by_id=dict(parts.questions),
        derived_by_id={d.id: d for d in derived},
        level_by_code={level.code: level for level in levels},
        rules_by_urgency=tuple(sorted(rules, key=lambda rule: rule.rank)),
        scope=dict(parts.scope),
        stale_after=_stale_after(parts.derived_needs, rules),
    )


def _stale_after(
    derived_needs: Mapping[str, set[str]], rules: tuple[Rule, ...]
) -> dict[str, frozenset[str]]:
    """Per answer id, the derived values and ``triage_level`` that read it (through derived
    values too): what an evaluation must work out again when that answer is added."""
    reads: dict[str, set[str]] = {did: set(needs) for did, needs in derived_needs.items()}
    reads[TRIAGE_LEVEL] = {
        need
        for rule in rules
        for name in rule.when.names
        for need in derived_needs.get(name, {name})
    }
    out: dict[str, set[str]] = {}
    for name, needs in reads.items():
        for answer in needs:
            out.setdefault(answer, set()).add(name)
    return {answer: frozenset(names) for answer, names in out.items()}


def _date(r: FieldReader, top: LDict, key: str) -> date | None:
    """A day written as "2027-06-30" (YAML may read it as a date already)."""
    if key not in top:
        return None
    value = top[key]
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        r.problem(top.line_of(key), f"questionnaire: {key!r} must be a day like 2027-06-30")
        return None


def load_directory(path: str | Path) -> dict[str, Questionnaire]:
    """The newest version of every questionnaire in a folder (or one file); raises
    DefinitionError listing every problem in every file."""
    latest: dict[str, Questionnaire] = {}
    for q in load_versions(path):
        if q.id not in latest or version_key(q.version) > version_key(latest[q.id].version):
            latest[q.id] = q
    return latest


def load_versions(
    path: str | Path, *, help_lines: Mapping[str, str] | None = None
) -> list[Questionnaire]:
    """Every questionnaire in a folder, every version of each (old versions stay, read-only, so
    that old submissions are shown with their own questions), with ``help_lines`` put in;
    raises DefinitionError."""
    loaded: list[Questionnaire] = []
    problems = validate_path(path, loaded=loaded, help_lines=help_lines)
    if problems:
        raise DefinitionError(problems)
    return loaded


def version_key(version: str) -> tuple[int, ...]:
    """A semantic version ("2.0.0") as numbers, for ordering; () if it is not one."""
    parts = version.split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return ()
    return tuple(int(part) for part in parts)


def validate_path(
    path: str | Path,
    *,
    loaded: list[Questionnaire] | None = None,
    help_lines: Mapping[str, str] | None = None,
    translations: list[Pairing] | None = None,
    warnings: list[DefinitionProblem] | None = None,
    pseudo: bool = False,
) -> list[DefinitionProblem]:
    """Check a definition file, or every .yaml file in a folder; returns every problem.

    A file with ``sections`` is a questionnaire (its exercise-blocks file is checked with it);
    a file with ``blocks`` is an exercise-blocks file; a file naming what it ``translates`` (or
    named ``<definition>.<language>.yaml``) is a translation (app/engine/_translations.py),
    checked against its definition. Versions of
    one questionnaire must differ, and every id a version drops must be listed in its
    ``removed``. ``translations`` gets each checked questionnaire translation, paired with its
    exercise blocks' (with ``pseudo``, the pseudo-locale of the newest version of each
    questionnaire too); ``warnings`` what is allowed but worth a look.
    """
    path = Path(path)
    files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
    if not files:
        return [DefinitionProblem(str(path), 1, "no definition files (*.yaml) here")]
    problems: list[DefinitionProblem] = []
    seen: dict[tuple[str, str], Questionnaire] = {}
    found: list[tuple[Path, object]] = []  # translation files, checked once the rest are read
    definitions: dict[Path, object] = {}
    for file in files:
        try:
            raw, syntax = load_yaml(file.read_text(encoding="utf-8"), str(file))
        except OSError as exc:
            problems.append(
                DefinitionProblem(str(file), 1, f"cannot read the file: {exc.strerror}")
            )
            continue
        if syntax or not isinstance(raw, dict):
            problems.extend(syntax or [DefinitionProblem(str(file), 1, "not a definition file")])
            continue
        # A translation names what it translates; one that forgot is known by its name.
        named = "sections" not in raw and "blocks" not in raw and split_name(file) is not None
        if is_translation(raw) or named:
            found.append((file, raw))
            continue
        definitions[file] = raw
        try:
            if "sections" in raw:
                questionnaire = load_questionnaire(file, help_lines=help_lines)
                key = (questionnaire.id, questionnaire.version)
                if key in seen:
                    problems.append(
                        DefinitionProblem(
                            str(file),
                            1,
                            f"questionnaire {questionnaire.id!r} version {questionnaire.version} is in another file too",
                        )
                    )
                seen[key] = questionnaire
                if loaded is not None:
                    loaded.append(questionnaire)
            elif "blocks" in raw:
                load_exercise_blocks(file)
            else:
                problems.append(
                    DefinitionProblem(
                        str(file),
                        1,
                        "neither a questionnaire ('sections') nor exercise blocks ('blocks')",
                    )
                )
        except DefinitionError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
    problems.extend(_removals_listed(list(seen.values())))
    if found or pseudo:
        pairs, its_problems, its_warnings = check_translations(
            found,
            definitions,
            pseudo=_newest_files(list(seen.values()), definitions) if pseudo else (),
        )
        problems.extend(its_problems)
        if translations is not None:
            translations.extend(pairs)
        if warnings is not None:
            warnings.extend(its_warnings)
    ids = {qid for qid, _ in seen}
    for q in seen.values():
        if q.follows is not None and q.follows not in ids:
            problems.append(
                DefinitionProblem(
                    q.path, 1, f"'follows' names no questionnaire here: {q.follows!r}"
                )
            )
        elif q.follows is not None:
            followed = [f for (fid, _), f in seen.items() if fid == q.follows]
            problems.extend(_same_levels(q, followed))
            problems.extend(_sources_known(q, max(followed, key=lambda f: version_key(f.version))))
    return problems


def _newest_files(
    questionnaires: list[Questionnaire], definitions: Mapping[Path, object]
) -> list[Path]:
    """The files of the newest version of each questionnaire, and the exercise-blocks files
    they name."""
    newest: dict[str, Questionnaire] = {}
    for q in questionnaires:
        if q.id not in newest or version_key(q.version) > version_key(newest[q.id].version):
            newest[q.id] = q
    files: list[Path] = []
    for q in newest.values():
        path = Path(q.path)
        files.append(path)
        top = definitions.get(path)
        if isinstance(top, dict) and "exercise_blocks" in top:
            files.append(path.parent / str(top["exercise_blocks"]))
    return files


def load_translated(
    pairing: Pairing, *, help_lines: Mapping[str, str] | None = None
) -> Questionnaire:
    """The questionnaire of a checked translation (``validate_path(translations=...)``), in its
    language: the same definition, read again with the translated texts."""
    return load_questionnaire(pairing.definition, help_lines=help_lines, translation=pairing)


def _sources_known(follow_up: Questionnaire, newest: Questionnaire) -> list[DefinitionProblem]:
    """A context value ``from`` the assessment names an answer or derived value of the newest
    version of what it follows (an older record without it reads as missing)."""
    return [
        DefinitionProblem(
            follow_up.path,
            value.line,
            f"context value {value.id!r}: 'from' names nothing in {newest.id} {newest.version}",
        )
        for value in follow_up.context.values()
        if value.source is not None
        and value.source[0] == "assessment"
        and value.source[1] not in newest.question_by_id
        and value.source[1] not in newest.derived_by_id
    ]


def _same_levels(
    follow_up: Questionnaire, followed: list[Questionnaire]
) -> list[DefinitionProblem]:
    """A follow-up has the levels of what it follows, in the same order: a clinic's queue
    sorts and flags submissions and their check-ins by one ranking of levels."""
    codes = [level.code for level in follow_up.levels]
    return [
        DefinitionProblem(
            follow_up.path,
            1,
            f"levels {codes} differ from those of {q.id} {q.version}, which it follows "
            f"({[level.code for level in q.levels]}): use the same levels in the same order",
        )
        for q in followed
        if [level.code for level in q.levels] != codes
    ]


def _removals_listed(questionnaires: list[Questionnaire]) -> list[DefinitionProblem]:
    """Each version must list, under ``removed``, the ids of the version before it that it no
    longer has: an app still sending one is told what happened to it."""
    problems: list[DefinitionProblem] = []
    by_id: dict[str, list[Questionnaire]] = {}
    for q in questionnaires:
        by_id.setdefault(q.id, []).append(q)
    for versions in by_id.values():
        versions.sort(key=lambda q: version_key(q.version))
        for older, newer in itertools.pairwise(versions):
            for qid in older.question_by_id:
                if qid not in newer.question_by_id and qid not in newer.removed:
                    problems.append(
                        DefinitionProblem(
                            newer.path,
                            1,
                            f"question {qid!r} of version {older.version} is gone from version {newer.version}: list it under 'removed'",
                        )
                    )
    return problems
