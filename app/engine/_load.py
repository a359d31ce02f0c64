"""Loading and validating definition files.

Everything that can be checked is checked here, once, so that evaluating answers later cannot
fail on the definition: unknown keys and ids, duplicates, references to missing questions or
options, type errors in conditions, cycles between derived values, questions that depend on
later answers, and questions that no answer path can reach. Every problem carries file and
line, and all of them are reported together.
"""

from __future__ import annotations

import ast
import itertools
import re
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from ._errors import DefinitionError, DefinitionProblem
from ._expr import BOOL, CHOICE, MISSING, MULTI, NUMBER, Expr, ExprError, VarInfo, compile_expr
from ._model import (
    QUESTION_TYPES,
    TRIAGE_LEVEL,
    Advice,
    BlockRelevance,
    Contributor,
    Derived,
    ExerciseBlock,
    Level,
    Option,
    Page,
    PlanSpec,
    Question,
    Questionnaire,
    Rule,
    Scored,
    Section,
    StartRule,
    Step,
)
from ._yaml import LDict, LList, load_yaml

_ID: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE: Final = re.compile(r"^[a-z0-9][a-z0-9_]*$")  # option codes may start with a digit
_RESERVED: Final = frozenset({TRIAGE_LEVEL, "true", "false", "count_true", "answered", "not"})
_MAX_COMBINATIONS: Final = 50_000  # reachability search gives up (assumes reachable) beyond this


class _Reader:
    """Reads typed fields from YAML mappings, collecting problems instead of stopping."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[DefinitionProblem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(DefinitionProblem(self.file, line, message))

    def mapping(
        self, value: Any, line: int, what: str, required: Iterable[str], optional: Iterable[str]
    ) -> LDict | None:
        if not isinstance(value, LDict):
            self.problem(line, f"{what} must be a mapping of keys to values")
            return None
        required, allowed = set(required), set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.problem(
                    value.line_of(key),
                    f"{what}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})",
                )
        for key in sorted(required - set(value)):
            self.problem(value.line, f"{what}: missing required key {key!r}")
        return value

    def items(
        self, data: LDict, key: str, what: str, *, required: bool = True
    ) -> list[tuple[Any, int]]:
        value = data.get(key)
        if value is None:
            if required and key in data:
                self.problem(data.line_of(key), f"{what}: {key!r} must not be empty")
            return []
        if not isinstance(value, LList):
            self.problem(data.line_of(key), f"{what}: {key!r} must be a list")
            return []
        return [(item, value.line_of(i)) for i, item in enumerate(value)]

    def text(self, data: LDict, key: str, what: str, *, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            if required and key in data:
                self.problem(data.line_of(key), f"{what}: {key!r} must not be empty")
            return None if not required else ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(data.line_of(key), f"{what}: {key!r} must be text")
            return ""
        text = str(value).strip()
        if required and not text:
            self.problem(data.line_of(key), f"{what}: {key!r} must not be empty")
        return text

    def texts(self, data: LDict, key: str, what: str, low: int, high: int) -> tuple[str, ...]:
        items = self.items(data, key, what)
        texts = []
        for item, line in items:
            if not isinstance(item, str) or not item.strip():
                self.problem(line, f"{what}: each of {key!r} must be a line of text")
            else:
                texts.append(item.strip())
        if key in data and not low <= len(items) <= high:
            self.problem(data.line_of(key), f"{what}: {key!r} must have {low} to {high} items")
        return tuple(texts)

    def identifier(self, data: LDict, key: str, what: str, pattern: re.Pattern[str] = _ID) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not pattern.match(value):
            self.problem(
                data.line_of(key),
                f"{what}: {key!r} must be lower-case letters, digits and '_' (got {value!r})",
            )
            return str(value)
        return value

    def integer(
        self, data: LDict, key: str, what: str, *, low: int | None = None, high: int | None = None
    ) -> int | None:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(data.line_of(key), f"{what}: {key!r} must be a whole number")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.problem(data.line_of(key), f"{what}: {key!r} must be from {low} to {high}")
            return None
        return value

    def number(self, data: LDict, key: str, what: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(data.line_of(key), f"{what}: {key!r} must be a number")
            return None
        return value

    def flag(self, data: LDict, key: str, what: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(data.line_of(key), f"{what}: {key!r} must be true or false")
            return default
        return value

    def expr(
        self,
        data: LDict,
        key: str,
        what: str,
        scope: Mapping[str, VarInfo],
        *,
        want: str | None = BOOL,
    ) -> Expr | None:
        if key not in data:
            return None
        raw = data[key]
        line = data.line_of(key)
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        if isinstance(raw, int | float):
            raw = str(raw)
        if not isinstance(raw, str):
            self.problem(line, f"{what}: {key!r} must be a condition written as text")
            return None
        try:
            return compile_expr(raw, scope, want=want)
        except ExprError as exc:
            self.problem(
                line, f"{what}: {key!r}: {exc.message} (at column {exc.column} of {raw.strip()!r})"
            )
            return None


def _names_in(source: Any) -> set[str]:
    """Names an expression mentions, read without type checking (to order derived values)."""
    if not isinstance(source, str):
        return set()
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


# ---------------------------------------------------------------------------------------------
# Exercise blocks
# ---------------------------------------------------------------------------------------------

_STEP_KEYS: Final = ("code", "title", "how", "cues", "mistakes", "progress_when")


def _read_step(r: _Reader, raw: Any, line: int, what: str) -> Step | None:
    data = r.mapping(raw, line, what, _STEP_KEYS, ("image", "image_alt"))
    if data is None:
        return None
    code = r.identifier(data, "code", what)
    where = f"{what} {code!r}"
    image = r.text(data, "image", where, required=False)
    image_alt = r.text(data, "image_alt", where, required=False)
    if bool(image) != bool(image_alt):
        r.problem(data.line, f"{where}: 'image' and 'image_alt' go together (alt text is required)")
    return Step(
        code=code,
        title=r.text(data, "title", where) or "",
        how=r.text(data, "how", where) or "",
        cues=r.texts(data, "cues", where, 2, 4),
        mistakes=r.texts(data, "mistakes", where, 1, 4),
        progress_when=r.text(data, "progress_when", where) or "",
        image=image or None,
        image_alt=image_alt or None,
    )


def load_exercise_blocks(path: str | Path) -> dict[str, ExerciseBlock]:
    """Load an exercise-blocks file; raises DefinitionError listing every problem."""
    path = Path(path)
    r = _Reader(str(path))
    blocks = _read_blocks(r, path)
    if r.problems:
        raise DefinitionError(r.problems)
    return blocks


def _read_blocks(r: _Reader, path: Path) -> dict[str, ExerciseBlock]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        r.problem(1, f"cannot read the file: {exc.strerror}")
        return {}
    raw, problems = load_yaml(text, str(path))
    r.problems.extend(problems)
    top = r.mapping(raw, 1, "exercise blocks file", ("version", "blocks"), ())
    if top is None:
        return {}
    blocks: dict[str, ExerciseBlock] = {}
    for item, line in r.items(top, "blocks", "exercise blocks file"):
        data = r.mapping(
            item, line, "block", ("code", "title", "summary", "dose", "steps"), ("companion",)
        )
        if data is None:
            continue
        code = r.identifier(data, "code", "block")
        where = f"block {code!r}"
        if code in blocks:
            r.problem(data.line_of("code"), f"duplicate block code {code!r}")
        steps: list[Step] = []
        for step_raw, step_line in r.items(data, "steps", where):
            step = _read_step(r, step_raw, step_line, f"{where} step")
            if step is None:
                continue
            if any(s.code == step.code for s in steps):
                r.problem(step_line, f"{where}: duplicate step code {step.code!r}")
            steps.append(step)
        if "steps" in data and not steps:
            r.problem(data.line_of("steps"), f"{where}: needs at least one step")
        companion = None
        if "companion" in data:
            companion = _read_step(
                r, data["companion"], data.line_of("companion"), f"{where} companion"
            )
        blocks[code] = ExerciseBlock(
            code=code,
            title=r.text(data, "title", where) or "",
            summary=r.text(data, "summary", where) or "",
            dose=r.text(data, "dose", where) or "",
            steps=tuple(steps),
            companion=companion,
        )
    return blocks


# ---------------------------------------------------------------------------------------------
# The questionnaire
# ---------------------------------------------------------------------------------------------


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Load and validate a questionnaire and the exercise-blocks file it names.

    Raises DefinitionError listing every problem in both files.
    """
    path = Path(path)
    r = _Reader(str(path))
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
            "contributors",
            "plan",
            "exercise_blocks",
        ),
        ("description", "derived", "stop_when"),
    )
    if top is None:
        raise DefinitionError(r.problems)
    q = _QuestionnaireReader(r, top, path).read()
    if r.problems or q is None:
        raise DefinitionError(r.problems)
    return q


class _QuestionnaireReader:
    def __init__(self, r: _Reader, top: LDict, path: Path) -> None:
        self.r = r
        self.top = top
        self.path = path
        self.scope: dict[str, VarInfo] = {}
        self.questions: dict[str, Question] = {}
        self.derived_deps: dict[str, set[str]] = {}  # derived id -> question ids it needs
        # The YAML of each section, page and question, kept to compile conditions once all
        # question types are known, and to point errors at the right line.
        self._raw_conditions: dict[tuple[str, str], LDict] = {}

    def read(self) -> Questionnaire | None:
        r, top = self.r, self.top
        qid = (
            r.identifier(top, "id", "questionnaire")
            if _ID.match(str(top.get("id", "")))
            else self._slug_id()
        )
        levels = self._levels()
        self.scope[TRIAGE_LEVEL] = VarInfo(CHOICE, frozenset(level.code for level in levels))
        sections = self._sections()
        derived = self._derived()
        questions = tuple(self.questions.values())
        for position, question in enumerate(questions):
            question.position = position
        self._conditions(sections)
        rules = self._rules(levels)
        contributors = self._contributors()
        blocks_path = self.path.parent / str(top.get("exercise_blocks", ""))
        blocks = _read_blocks(r, blocks_path) if "exercise_blocks" in top else {}
        plan = self._plan(contributors, blocks)
        stop_when = r.expr(top, "stop_when", "questionnaire", self.scope)
        self._check_order(sections)
        self._check_rules_not_circular(rules, levels)
        self._check_reachable(sections)
        if r.problems:
            return None
        return Questionnaire(
            id=qid,
            version=r.text(top, "version", "questionnaire") or "",
            title=r.text(top, "title", "questionnaire") or "",
            description=r.text(top, "description", "questionnaire", required=False) or "",
            path=str(self.path),
            sections=sections,
            derived=derived,
            levels=levels,
            rules=rules,
            contributors=contributors,
            plan=plan,
            exercise_blocks=blocks,
            stop_when=stop_when,
            pages=tuple(page for section in sections for page in section.pages),
            questions=questions,
            question_by_id=dict(self.questions),
            derived_by_id={d.id: d for d in derived},
            level_by_code={level.code: level for level in levels},
            rules_by_urgency=tuple(sorted(rules, key=lambda rule: rule.rank)),
        )

    def _slug_id(self) -> str:
        value = self.top.get("id")
        if not isinstance(value, str) or not re.match(r"^[a-z][a-z0-9_-]*$", value):
            self.r.problem(
                self.top.line_of("id"),
                f"questionnaire: 'id' must be lower-case, digits, '-' or '_' (got {value!r})",
            )
        return str(value)

    # -- levels -------------------------------------------------------------------------------
    def _levels(self) -> tuple[Level, ...]:
        r = self.r
        levels: list[Level] = []
        for raw, line in r.items(self.top, "levels", "questionnaire"):
            data = r.mapping(raw, line, "level", ("code", "title", "advice"), ())
            if data is None:
                continue
            code = r.identifier(data, "code", "level")
            if any(level.code == code for level in levels):
                r.problem(data.line_of("code"), f"duplicate level {code!r}")
            levels.append(
                Level(
                    code,
                    r.text(data, "title", f"level {code!r}") or "",
                    r.text(data, "advice", f"level {code!r}") or "",
                    len(levels),
                )
            )
        if "levels" in self.top and len(levels) < 2:
            r.problem(
                self.top.line_of("levels"),
                "questionnaire: needs at least two triage levels, most urgent first",
            )
        return tuple(levels)

    # -- sections, pages, questions -----------------------------------------------------------
    def _sections(self) -> tuple[Section, ...]:
        r = self.r
        sections: list[Section] = []
        page_ids: set[str] = set()
        for raw, line in r.items(self.top, "sections", "questionnaire"):
            data = r.mapping(raw, line, "section", ("id", "title", "pages"), ("when",))
            if data is None:
                continue
            sid = r.identifier(data, "id", "section")
            if any(s.id == sid for s in sections):
                r.problem(data.line_of("id"), f"duplicate section id {sid!r}")
            pages: list[Page] = []
            for page_raw, page_line in r.items(data, "pages", f"section {sid!r}"):
                page = self._page(page_raw, page_line, sid)
                if page is None:
                    continue
                if page.id in page_ids:
                    r.problem(page.line, f"duplicate page id {page.id!r}")
                page_ids.add(page.id)
                pages.append(page)
            # Conditions are compiled later, once every question's type is known.
            sections.append(
                Section(
                    sid, r.text(data, "title", f"section {sid!r}") or "", tuple(pages), data.line
                )
            )
            self._raw_conditions[("section", sid)] = data
        return tuple(sections)

    def _page(self, raw: Any, line: int, section_id: str) -> Page | None:
        r = self.r
        data = r.mapping(raw, line, "page", ("id", "title", "questions"), ("intro", "when"))
        if data is None:
            return None
        pid = r.identifier(data, "id", "page")
        questions = []
        for q_raw, q_line in r.items(data, "questions", f"page {pid!r}"):
            question = self._question(q_raw, q_line, pid, section_id)
            if question is not None:
                questions.append(question)
        if "questions" in data and not questions:
            r.problem(data.line_of("questions"), f"page {pid!r}: needs at least one question")
        self._raw_conditions[("page", pid)] = data
        return Page(
            id=pid,
            title=r.text(data, "title", f"page {pid!r}") or "",
            intro=r.text(data, "intro", f"page {pid!r}", required=False),
            questions=tuple(questions),
            line=data.line,
            section_id=section_id,
        )

    def _question(self, raw: Any, line: int, page_id: str, section_id: str) -> Question | None:
        r = self.r
        data = r.mapping(
            raw,
            line,
            "question",
            ("id", "type", "text"),
            ("hint", "options", "min", "max", "unit", "widget", "required", "when"),
        )
        if data is None:
            return None
        qid = r.identifier(data, "id", "question")
        where = f"question {qid!r}"
        if qid in self.questions:
            r.problem(data.line_of("id"), f"duplicate question id {qid!r}")
        if qid in _RESERVED:
            r.problem(data.line_of("id"), f"{where}: {qid!r} is a reserved word")
        qtype = data.get("type")
        if qtype not in QUESTION_TYPES:
            r.problem(
                data.line_of("type"),
                f"{where}: type must be one of {', '.join(QUESTION_TYPES)} (got {qtype!r})",
            )
            qtype = "boolean"
        options: list[Option] = []
        if qtype in ("choice", "multi_choice"):
            if "options" not in data:
                r.problem(data.line, f"{where}: a {qtype} question needs 'options'")
            for opt_raw, opt_line in r.items(data, "options", where):
                opt = r.mapping(
                    opt_raw, opt_line, f"{where} option", ("code", "label"), ("hint", "exclusive")
                )
                if opt is None:
                    continue
                code = r.identifier(opt, "code", f"{where} option", _CODE)
                if any(o.code == code for o in options):
                    r.problem(opt.line_of("code"), f"{where}: duplicate option {code!r}")
                exclusive = r.flag(opt, "exclusive", f"{where} option {code!r}", False)
                if exclusive and qtype != "multi_choice":
                    r.problem(
                        opt.line_of("exclusive"),
                        f"{where}: only multiple-choice options can be exclusive",
                    )
                options.append(
                    Option(
                        code,
                        r.text(opt, "label", f"{where} option {code!r}") or "",
                        r.text(opt, "hint", where, required=False),
                        exclusive,
                    )
                )
        elif "options" in data:
            r.problem(data.line_of("options"), f"{where}: only choice questions have options")
        minimum = maximum = None
        if qtype in ("integer", "number"):
            minimum, maximum = r.number(data, "min", where), r.number(data, "max", where)
            if minimum is not None and maximum is not None and minimum > maximum:
                r.problem(data.line_of("min"), f"{where}: 'min' is greater than 'max'")
        else:
            for key in ("min", "max", "unit"):
                if key in data:
                    r.problem(data.line_of(key), f"{where}: only number questions have {key!r}")
        question = Question(
            id=qid,
            type=qtype,
            text=r.text(data, "text", where) or "",
            line=data.line,
            hint=r.text(data, "hint", where, required=False),
            options=tuple(options),
            minimum=minimum,
            maximum=maximum,
            unit=r.text(data, "unit", where, required=False),
            widget=r.text(data, "widget", where, required=False),
            required=r.flag(data, "required", where, True),
            page_id=page_id,
            section_id=section_id,
            option_codes=frozenset(o.code for o in options),
        )
        self.questions.setdefault(qid, question)
        self.scope[qid] = VarInfo(
            {
                "boolean": BOOL,
                "integer": NUMBER,
                "number": NUMBER,
                "choice": CHOICE,
                "multi_choice": MULTI,
            }[qtype],
            question.option_codes,
        )
        self._raw_conditions[("question", qid)] = data
        return question

    # -- derived values -----------------------------------------------------------------------
    def _derived(self) -> tuple[Derived, ...]:
        r = self.r
        raws: dict[str, tuple[LDict, int]] = {}
        for raw, line in r.items(self.top, "derived", "questionnaire", required=False):
            data = r.mapping(raw, line, "derived value", ("id", "value"), ("label",))
            if data is None:
                continue
            did = r.identifier(data, "id", "derived value")
            if did in self.questions or did in raws:
                r.problem(
                    data.line_of("id"),
                    f"duplicate id {did!r}: derived values and questions share one set of ids",
                )
                continue
            if did in _RESERVED:
                r.problem(data.line_of("id"), f"derived value {did!r} is a reserved word")
            raws[did] = (data, line)
        # Order derived values so that each is compiled after those it uses; report cycles.
        graph = {did: _names_in(data.get("value")) & set(raws) for did, (data, _) in raws.items()}
        ordered: list[str] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(did: str, trail: list[str]) -> None:
            if state.get(did) == 2:
                return
            if state.get(did) == 1:
                cycle = [*trail[trail.index(did) :], did]
                r.problem(
                    raws[did][0].line_of("value"),
                    f"derived values refer to each other in a cycle: {' -> '.join(cycle)}",
                )
                return
            state[did] = 1
            for dep in sorted(graph[did]):
                visit(dep, [*trail, did])
            state[did] = 2
            ordered.append(did)

        for did in raws:
            visit(did, [])
        derived: list[Derived] = []
        for did in ordered:
            data = raws[did][0]
            if any(state.get(dep) != 2 for dep in graph[did]):
                continue
            expr = r.expr(data, "value", f"derived value {did!r}", self.scope, want=None)
            if expr is None:
                continue
            if TRIAGE_LEVEL in expr.names:
                r.problem(data.line_of("value"), f"derived value {did!r} cannot use {TRIAGE_LEVEL}")
            self.scope[did] = VarInfo(expr.type)
            needs: set[str] = set()
            for name in expr.names:
                needs |= self.derived_deps.get(name, {name})
            self.derived_deps[did] = needs
            derived.append(
                Derived(did, expr, data.line, r.text(data, "label", did, required=False))
            )
        # Keep the author's order for display.
        position = {did: i for i, did in enumerate(raws)}
        return tuple(sorted(derived, key=lambda d: position[d.id]))

    # -- branching conditions -----------------------------------------------------------------
    def _conditions(self, sections: tuple[Section, ...]) -> None:
        r = self.r
        for section in sections:
            section_data = self._raw_conditions[("section", section.id)]
            section.when = r.expr(section_data, "when", f"section {section.id!r}", self.scope)
            for page in section.pages:
                page_data = self._raw_conditions[("page", page.id)]
                page.when = r.expr(page_data, "when", f"page {page.id!r}", self.scope)
                page.conditions = tuple(e for e in (section.when, page.when) if e is not None)
                for question in page.questions:
                    data = self._raw_conditions[("question", question.id)]
                    question.when = r.expr(data, "when", f"question {question.id!r}", self.scope)
                    own = (question.when,) if question.when is not None else ()
                    question.conditions = page.conditions + own

    def _needs(self, expr: Expr) -> set[str]:
        """Question ids (and triage_level) an expression depends on, through derived values."""
        needs: set[str] = set()
        for name in expr.names:
            needs |= self.derived_deps.get(name, {name})
        return needs

    def _check_order(self, sections: tuple[Section, ...]) -> None:
        """A question may only depend on answers that come before it."""
        r = self.r
        seen: set[str] = {TRIAGE_LEVEL}
        for section in sections:
            for page in section.pages:
                first = True
                for question in page.questions:
                    checks: list[tuple[str, Expr | None, int]] = []
                    if first:
                        checks += [
                            (
                                f"section {section.id!r}",
                                section.when,
                                self._raw_conditions[("section", section.id)].line_of("when"),
                            ),
                            (
                                f"page {page.id!r}",
                                page.when,
                                self._raw_conditions[("page", page.id)].line_of("when"),
                            ),
                        ]
                        first = False
                    checks.append(
                        (
                            f"question {question.id!r}",
                            question.when,
                            self._raw_conditions[("question", question.id)].line_of("when"),
                        )
                    )
                    for what, expr, line in checks:
                        if expr is None:
                            continue
                        later = sorted(self._needs(expr) - seen)
                        if later:
                            r.problem(
                                line,
                                f"{what}: depends on {', '.join(later)}, which is not asked before it; a question can only depend on earlier answers",
                            )
                    seen.add(question.id)

    # -- triage rules ---------------------------------------------------------------------------
    def _rules(self, levels: tuple[Level, ...]) -> tuple[Rule, ...]:
        r = self.r
        ranks = {level.code: level.rank for level in levels}
        rules: list[Rule] = []
        for raw, line in r.items(self.top, "triage", "questionnaire"):
            data = r.mapping(raw, line, "triage rule", ("code", "level", "when", "message"), ())
            if data is None:
                continue
            code = r.identifier(data, "code", "triage rule")
            where = f"triage rule {code!r}"
            if any(rule.code == code for rule in rules):
                r.problem(data.line_of("code"), f"duplicate triage rule {code!r}")
            level = data.get("level")
            if level not in ranks:
                r.problem(
                    data.line_of("level"),
                    f"{where}: unknown level {level!r} (levels: {', '.join(ranks)})",
                )
                continue
            when = r.expr(data, "when", where, self.scope)
            if when is None:
                continue
            if TRIAGE_LEVEL in when.names:
                r.problem(
                    data.line_of("when"),
                    f"{where}: a rule cannot depend on {TRIAGE_LEVEL} (it is what rules decide)",
                )
                continue
            rules.append(
                Rule(
                    code,
                    str(level),
                    ranks[str(level)],
                    when,
                    r.text(data, "message", where) or "",
                    data.line,
                )
            )
        return tuple(rules)

    def _check_rules_not_circular(self, rules: tuple[Rule, ...], levels: tuple[Level, ...]) -> None:
        """A rule must not read a question that would not have been asked had the rule fired.

        Questions may be gated on the triage level so far (no lifestyle questions after an
        emergency, movement checks only at self care). A rule reading such a question is
        circular when its own level would close that gate.
        """
        gates: dict[str, list[Expr]] = {}
        for question in self.questions.values():
            for condition in question.conditions:
                if TRIAGE_LEVEL in self._needs(condition):
                    gates.setdefault(question.id, []).append(condition)
        rank = {level.code: level.rank for level in levels}
        for rule in rules:
            for name in sorted(self._needs(rule.when) & set(gates)):
                for gate in gates[name]:
                    if not gate.names <= {TRIAGE_LEVEL}:
                        continue  # gates that mix in answers are not checked here
                    for before in levels:
                        after = (
                            before if before.rank <= rank[rule.level] else levels[rank[rule.level]]
                        )
                        ctx = _FreeContext({TRIAGE_LEVEL: before.code})
                        if gate.holds(ctx) and not gate.holds(
                            _FreeContext({TRIAGE_LEVEL: after.code})
                        ):
                            self.r.problem(
                                rule.line,
                                f"triage rule {rule.code!r}: uses {name!r}, which is only asked when {gate.source}; if the rule fired ({rule.level}), it would not have been asked. That is circular",
                            )
                            break

    # -- contributors ---------------------------------------------------------------------------
    def _scored_list(self, data: LDict, key: str, where: str, *, high: int) -> tuple[Scored, ...]:
        r = self.r
        out: list[Scored] = []
        for raw, line in r.items(data, key, where, required=False):
            item = r.mapping(raw, line, f"{where} {key}", ("score",), ("when",))
            if item is None:
                continue
            points = r.integer(item, "score", f"{where} {key}", low=-high, high=high)
            when = r.expr(item, "when", f"{where} {key}", self.scope)
            if points is not None and ("when" not in item or when is not None):
                out.append(Scored(when, points))
        return tuple(out)

    def _template(self, data: LDict, key: str, where: str) -> str:
        text = self.r.text(data, key, where) or ""
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError as exc:
            self.r.problem(
                data.line_of(key), f"{where}: {key!r}: {exc} (write {{{{ and }}}} for braces)"
            )
            return text
        for name in fields:
            if name not in self.scope or name == TRIAGE_LEVEL:
                self.r.problem(
                    data.line_of(key),
                    f"{where}: {key!r} mentions {{{name}}}, which is not a question or derived value",
                )
        return text

    def _contributors(self) -> tuple[Contributor, ...]:
        r = self.r
        out: list[Contributor] = []
        for raw, line in r.items(self.top, "contributors", "questionnaire"):
            data = r.mapping(
                raw,
                line,
                "contributor",
                ("code", "label", "why", "advice", "bands"),
                ("add", "max"),
            )
            if data is None:
                continue
            code = r.identifier(data, "code", "contributor")
            where = f"contributor {code!r}"
            if any(c.code == code for c in out):
                r.problem(data.line_of("code"), f"duplicate contributor {code!r}")
            maximum = r.integer(data, "max", where, low=1, high=10) if "max" in data else 3
            out.append(
                Contributor(
                    code=code,
                    label=r.text(data, "label", where) or "",
                    why=self._template(data, "why", where),
                    advice=self._template(data, "advice", where),
                    bands=self._scored_list(data, "bands", where, high=10),
                    bonuses=self._scored_list(data, "add", where, high=10),
                    maximum=maximum or 3,
                    line=data.line,
                )
            )
        return tuple(out)

    # -- plan -----------------------------------------------------------------------------------
    def _plan(
        self, contributors: tuple[Contributor, ...], blocks: dict[str, ExerciseBlock]
    ) -> PlanSpec:
        r = self.r
        data = r.mapping(
            self.top.get("plan"), self.top.line_of("plan"), "plan", ("focus", "blocks"), ("advice",)
        )
        if data is None:
            return PlanSpec(3, (), ())
        focus = r.integer(data, "focus", "plan", low=1, high=10) or 3
        codes = {c.code for c in contributors}
        relevances: list[BlockRelevance] = []
        for raw, line in r.items(data, "blocks", "plan"):
            item = r.mapping(raw, line, "plan block", ("code", "weights"), ("add", "start"))
            if item is None:
                continue
            code = r.identifier(item, "code", "plan block")
            where = f"plan block {code!r}"
            block = blocks.get(code)
            if block is None and blocks:
                r.problem(
                    item.line_of("code"),
                    f"{where}: no such block in the exercise blocks file (blocks: {', '.join(blocks)})",
                )
            if any(b.code == code for b in relevances):
                r.problem(item.line_of("code"), f"duplicate plan block {code!r}")
            weights: list[tuple[str, int]] = []
            raw_weights = item.get("weights")
            if isinstance(raw_weights, LDict):
                for contributor, weight in raw_weights.items():
                    if contributor not in codes:
                        r.problem(
                            raw_weights.line_of(contributor),
                            f"{where}: unknown contributor {contributor!r}",
                        )
                    elif (
                        isinstance(weight, bool)
                        or not isinstance(weight, int)
                        or not 0 <= weight <= 10
                    ):
                        r.problem(
                            raw_weights.line_of(contributor),
                            f"{where}: weight of {contributor!r} must be a whole number from 0 to 10",
                        )
                    else:
                        weights.append((contributor, weight))
            else:
                r.problem(
                    item.line_of("weights"),
                    f"{where}: 'weights' must map contributor codes to numbers",
                )
            start: list[StartRule] = []
            for start_raw, start_line in r.items(item, "start", where, required=False):
                rule = r.mapping(start_raw, start_line, f"{where} start", ("step",), ("when",))
                if rule is None:
                    continue
                step = rule.get("step")
                if block is not None and not any(s.code == step for s in block.steps):
                    r.problem(
                        rule.line_of("step"),
                        f"{where}: no step {step!r} (steps: {', '.join(s.code for s in block.steps)})",
                    )
                start.append(
                    StartRule(r.expr(rule, "when", f"{where} start", self.scope), str(step))
                )
            relevances.append(
                BlockRelevance(
                    code,
                    tuple(weights),
                    self._scored_list(item, "add", where, high=10),
                    tuple(start),
                    item.line,
                )
            )
        for code in blocks:
            if not any(b.code == code for b in relevances):
                r.problem(
                    data.line_of("blocks"),
                    f"plan: exercise block {code!r} has no relevance weights here",
                )
        advice: list[Advice] = []
        for raw, line in r.items(data, "advice", "plan", required=False):
            item = r.mapping(raw, line, "plan advice", ("text",), ("when",))
            if item is not None:
                advice.append(
                    Advice(
                        r.expr(item, "when", "plan advice", self.scope),
                        self._template(item, "text", "plan advice"),
                    )
                )
        return PlanSpec(focus, tuple(relevances), tuple(advice))

    # -- reachability -----------------------------------------------------------------------------
    def _check_reachable(self, sections: tuple[Section, ...]) -> None:
        """Report pages and questions whose conditions no combination of answers can satisfy.

        A bounded search: each variable takes every option (choices, yes/no), or numbers just
        around every constant the conditions compare it with. Derived values and the triage level
        are treated as free; that can only call a question reachable, never wrongly unreachable.
        A page that can never be shown is reported once, at its own condition.
        """
        if self.r.problems:
            return  # conditions may be missing; the other errors come first
        constants = self._numeric_constants()
        for section in sections:
            for page in section.pages:
                if page.conditions and not self._satisfiable(page.conditions, constants):
                    where = ("page", page.id) if page.when is not None else ("section", section.id)
                    self.r.problem(
                        self._raw_conditions[where].line_of("when"),
                        f"page {page.id!r} can never be shown: no answers make all of its conditions true ({' and '.join(c.source for c in page.conditions)})",
                    )
                    continue
                for question in page.questions:
                    if question.when is None or self._satisfiable(question.conditions, constants):
                        continue
                    self.r.problem(
                        self._raw_conditions[("question", question.id)].line_of("when"),
                        f"question {question.id!r} can never be asked: no answers make all of its conditions true ({' and '.join(c.source for c in question.conditions)})",
                    )

    def _satisfiable(self, conditions: tuple[Expr, ...], constants: dict[str, set[float]]) -> bool:
        variables = self._closure(conditions)
        domains = [self._domain(name, constants.get(name, set())) for name in variables]
        total = 1
        for domain in domains:
            total *= len(domain)
        if total > _MAX_COMBINATIONS:
            return True  # too many to try: assume it can be reached
        return any(
            self._holds_under(conditions, variables, combo) for combo in itertools.product(*domains)
        )

    def _closure(self, conditions: tuple[Expr, ...]) -> list[str]:
        names: set[str] = set()
        pending = [name for c in conditions for name in c.names]
        while pending:
            name = pending.pop()
            if name in names:
                continue
            names.add(name)
            other = self.questions.get(name)
            if other is not None:
                pending += [n for c in other.conditions for n in c.names]
        position = {q: i for i, q in enumerate(self.questions)}
        return sorted(names, key=lambda n: position.get(n, -1))

    def _domain(self, name: str, numbers: set[float]) -> list[Any]:
        info = self.scope[name]
        if info.type == BOOL:
            return [True, False]
        if info.type == CHOICE:
            return sorted(info.options)
        if info.type == MULTI:
            return [[code] for code in sorted(info.options)] + [sorted(info.options)]
        question = self.questions.get(name)
        bounds = (
            {b for b in (question.minimum, question.maximum) if b is not None}
            if question
            else set()
        )
        candidates = bounds | {c + d for c in numbers for d in (-1, -0.5, 0, 0.5, 1)}
        if question is not None:
            candidates = {
                c
                for c in candidates
                if (question.minimum is None or c >= question.minimum)
                and (question.maximum is None or c <= question.maximum)
            }
        return sorted(candidates) or [0]

    def _numeric_constants(self) -> dict[str, set[float]]:
        """For each name, the numbers that conditions compare it with."""
        found: dict[str, set[float]] = {}
        for data in self._raw_conditions.values():
            source = data.get("when")
            if not isinstance(source, str):
                continue
            try:
                tree = ast.parse(source.strip(), mode="eval")
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Compare):
                    parts = [node.left, *node.comparators]
                    names = [p.id for p in parts if isinstance(p, ast.Name)]
                    numbers = [
                        p.value
                        for p in parts
                        if isinstance(p, ast.Constant)
                        and isinstance(p.value, int | float)
                        and not isinstance(p.value, bool)
                    ]
                    for name in names:
                        found.setdefault(name, set()).update(numbers)
        return found

    def _holds_under(
        self, conditions: tuple[Expr, ...], variables: list[str], combo: tuple[Any, ...]
    ) -> bool:
        ctx = _FreeContext()
        for name, value in zip(variables, combo, strict=True):
            other = self.questions.get(name)
            # An earlier question that would itself be hidden has no answer.
            if other is not None and not all(c.holds(ctx) for c in other.conditions):
                continue
            ctx[name] = value
        return all(c.holds(ctx) for c in conditions)


class _FreeContext(dict[str, Any]):
    def __missing__(self, key: str) -> Any:
        return MISSING


def load_directory(path: str | Path) -> dict[str, Questionnaire]:
    """Load every questionnaire in a folder (or one file); raises DefinitionError for all."""
    questionnaires: dict[str, Questionnaire] = {}
    problems = validate_path(path, loaded=questionnaires)
    if problems:
        raise DefinitionError(problems)
    return questionnaires


def validate_path(
    path: str | Path, *, loaded: dict[str, Questionnaire] | None = None
) -> list[DefinitionProblem]:
    """Check a definition file, or every .yaml file in a folder; returns every problem.

    A file with ``sections`` is a questionnaire (its exercise-blocks file is checked with it);
    a file with ``blocks`` is an exercise-blocks file.
    """
    path = Path(path)
    files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
    if not files:
        return [DefinitionProblem(str(path), 1, "no definition files (*.yaml) here")]
    problems: list[DefinitionProblem] = []
    seen: set[str] = set()
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
        try:
            if "sections" in raw:
                questionnaire = load_questionnaire(file)
                if questionnaire.id in seen:
                    problems.append(
                        DefinitionProblem(
                            str(file),
                            1,
                            f"questionnaire id {questionnaire.id!r} is used by another file",
                        )
                    )
                seen.add(questionnaire.id)
                if loaded is not None:
                    loaded[questionnaire.id] = questionnaire
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
    return problems
