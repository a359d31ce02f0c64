"""Reading a questionnaire's own parts into the model: levels, sections, pages and questions,
derived values, branching conditions, triage rules and contributors.

Each part is checked as it is read (keys, ids, types, references to levels and names). Checks
that need every part at once are in ``_checks``; the plan and its exercise blocks in ``_plan``.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from typing import Any, Final

from ._expr import BOOL, CHOICE, MULTI, NUMBER, VarInfo, names_in
from ._fields import CODE, ID, FieldReader
from ._model import (
    QUESTION_TYPES,
    TRIAGE_LEVEL,
    ContextValue,
    Contributor,
    Derived,
    Level,
    LevelAdvice,
    Move,
    Option,
    Page,
    Progression,
    Question,
    Removed,
    Rule,
    SafetyNet,
    Section,
    TrendSeries,
)
from ._yaml import LDict

_RESERVED: Final = frozenset(
    {TRIAGE_LEVEL, "true", "false", "count_true", "count_chosen", "answered", "not"}
)
ICONS: Final = ("alert", "clock", "doctor", "tick")  # the icons patient pages have
RISKS: Final = ("high", "moderate", "low")  # FHIR's risk-probability codes
_STYLE: Final = re.compile(r"^[a-z][a-z0-9-]*$")  # a CSS class modifier
SOURCES: Final = ("assessment", "previous_checkin")  # where a follow-up's context comes from


class QuestionnaireReader:
    """Reads the parts of one questionnaire file, in order: each needs the names read before it."""

    def __init__(self, r: FieldReader, top: LDict) -> None:
        self.r = r
        self.top = top
        # Every name a condition may use, with its type; grows as parts are read.
        self.scope: dict[str, VarInfo] = {}
        self.questions: dict[str, Question] = {}
        self.derived_needs: dict[str, set[str]] = {}  # derived id -> question ids it needs
        # The YAML of each section, page and question, kept to compile conditions once all
        # question types are known, and to point errors at the right line.
        self._raw_conditions: dict[tuple[str, str], LDict] = {}
        self._raw_levels: list[LDict] = []  # their advice_more needs the names and rules

    def when_line(self, kind: str, element_id: str) -> int:
        """The line of a section's, page's or question's ``when`` (or of the element)."""
        return self._raw_conditions[(kind, element_id)].line_of("when")

    def identifier(self) -> str:
        """The questionnaire's id: like other ids, but '-' is allowed too (it is in URLs)."""
        if ID.match(str(self.top.get("id", ""))):
            return self.r.identifier(self.top, "id", "questionnaire")
        value = self.top.get("id")
        if not isinstance(value, str) or not re.match(r"^[a-z][a-z0-9_-]*$", value):
            self.r.problem(
                self.top.line_of("id"),
                f"questionnaire: 'id' must be lower-case, digits, '-' or '_' (got {value!r})",
            )
        return str(value)

    # -- levels -------------------------------------------------------------------------------
    def levels(self) -> tuple[Level, ...]:
        """The triage levels, most urgent first; ``triage_level`` takes their codes."""
        r = self.r
        read: list[tuple[Level, LDict]] = []
        for raw, line in r.items(self.top, "levels", "questionnaire"):
            data = r.mapping(
                raw,
                line,
                "level",
                ("code", "title", "advice", "label", "badge", "icon", "risk"),
                ("style", "urgent", "clinician", "action", "advice_more", "releasable"),
            )
            if data is None:
                continue
            code = r.identifier(data, "code", "level")
            where = f"level {code!r}"
            if any(level.code == code for level, _ in read):
                r.problem(data.line_of("code"), f"duplicate level {code!r}")
            style = code.replace("_", "-")
            if "style" in data:
                style = str(data["style"])
                if not _STYLE.match(style):
                    r.problem(
                        data.line_of("style"),
                        f"{where}: 'style' must be lower-case letters, digits and '-' (got {data['style']!r})",
                    )
            level = Level(
                code=code,
                title=r.text(data, "title", where) or "",
                advice=r.text(data, "advice", where) or "",
                rank=len(read),
                label=r.text(data, "label", where) or "",
                badge=r.text(data, "badge", where) or "",
                icon=r.one_of(data, "icon", where, ICONS),
                style=style,
                risk=r.one_of(data, "risk", where, RISKS),
                urgent=r.flag(data, "urgent", where, False),
                clinician=r.text(data, "clinician", where, required=False) or "",
                action=r.text(data, "action", where, required=False) or "",
                releasable=r.flag(data, "releasable", where, False),
            )
            if level.releasable and level.urgent:
                r.problem(
                    data.line_of("releasable"), f"{where}: an urgent level cannot be released"
                )
            read.append((level, data))
        if "levels" in self.top and len(read) < 2:
            r.problem(
                self.top.line_of("levels"),
                "questionnaire: needs at least two triage levels, most urgent first",
            )
        self._check_urgent_first(read)
        if read and read[-1][0].releasable:
            r.problem(
                read[-1][1].line_of("releasable"),
                f"level {read[-1][0].code!r}: the least urgent level has the plan already",
            )
        self._raw_levels = [data for _, data in read]
        levels = tuple(level for level, _ in read)
        self.scope[TRIAGE_LEVEL] = VarInfo(CHOICE, frozenset(level.code for level in levels))
        return levels

    def _check_urgent_first(self, read: list[tuple[Level, LDict]]) -> None:
        """Urgent levels are the most urgent ones, so they come first, and never the last one
        (self care): the staff queue shows them first, under a banner."""
        if any(not isinstance(data.get("urgent", False), bool) for _, data in read):
            return  # reported already; which levels are urgent is not known
        for (before, _), (level, data) in itertools.pairwise(read):
            if level.urgent and not before.urgent:
                self.r.problem(
                    data.line_of("urgent"),
                    f"level {level.code!r}: an urgent level cannot follow {before.code!r}, which is not; levels go most urgent first",
                )
        if read and read[-1][0].urgent:
            last, data = read[-1]
            self.r.problem(
                data.line_of("urgent"),
                f"level {last.code!r}: the least urgent level (the one with an exercise plan) cannot be urgent",
            )

    def level_advice(self, levels: tuple[Level, ...], rules: tuple[Rule, ...]) -> tuple[Level, ...]:
        """The levels with their ``advice_more``: compiled once the names and rules are known."""
        r = self.r
        codes = {rule.code for rule in rules}
        out: list[Level] = []
        for level, data in zip(levels, self._raw_levels, strict=True):
            where = f"level {level.code!r} advice_more"
            more: list[LevelAdvice] = []
            for raw, line in r.items(data, "advice_more", where, required=False):
                item = r.mapping(raw, line, where, ("text",), ("when", "unless_reasons"))
                if item is None:
                    continue
                unless = [
                    str(code) for code, _ in r.items(item, "unless_reasons", where, required=False)
                ]
                for code in unless:
                    if code not in codes:
                        r.problem(
                            item.line_of("unless_reasons"), f"{where}: no triage rule {code!r}"
                        )
                more.append(
                    LevelAdvice(
                        r.text(item, "text", where) or "",
                        r.expr(item, "when", where, self.scope),
                        frozenset(unless),
                    )
                )
            out.append(dataclasses.replace(level, advice_more=tuple(more)))
        return tuple(out)

    # -- context and progression ------------------------------------------------------------------
    def context(self) -> dict[str, ContextValue]:
        """Values the caller gives with the answers (optional). Read before the sections, so
        that conditions can use them; a question may not have the same id (checked after)."""
        r = self.r
        out: dict[str, ContextValue] = {}
        types = {
            "boolean": BOOL,
            "integer": NUMBER,
            "number": NUMBER,
            "choice": CHOICE,
            "multi_choice": MULTI,
        }
        for raw, line in r.items(self.top, "context", "questionnaire", required=False):
            data = r.mapping(
                raw, line, "context value", ("id", "type"), ("label", "options", "from", "stand_in")
            )
            if data is None:
                continue
            cid = r.identifier(data, "id", "context value")
            where = f"context value {cid!r}"
            if cid in out or cid in _RESERVED:
                r.problem(data.line_of("id"), f"{where}: duplicate or reserved id")
                continue
            ctype = data.get("type")
            if ctype not in types:
                r.problem(data.line_of("type"), f"{where}: type must be one of {', '.join(types)}")
                continue
            options = frozenset(str(o) for o, _ in r.items(data, "options", where, required=False))
            if ctype in ("choice", "multi_choice") and not options:
                r.problem(data.line, f"{where}: a {ctype} value needs 'options'")
            source = self._source(data, where)
            stand_in = data.get("stand_in")
            if stand_in is not None and (
                stand_in != "first_checkin" or source is None or source[0] != "assessment"
            ):
                r.problem(
                    data.line_of("stand_in"),
                    f"{where}: 'stand_in' may only be first_checkin, for a value from the assessment",
                )
            out[cid] = ContextValue(
                cid,
                str(ctype),
                data.line,
                r.text(data, "label", where, required=False),
                options,
                source,
                stand_in is not None,
            )
            self.scope[cid] = VarInfo(types[str(ctype)], options)
        return out

    def _source(self, data: LDict, where: str) -> tuple[str, str] | None:
        """``from``: "assessment.<id>" or "previous_checkin.<id>"."""
        raw = data.get("from")
        if raw is None:
            return None
        place, _, name = str(raw).partition(".")
        if place not in SOURCES or not ID.match(name):
            self.r.problem(
                data.line_of("from"),
                f"{where}: 'from' must be {' or '.join(s + '.<id>' for s in SOURCES)} (got {raw!r})",
            )
            return None
        return place, name

    def check_context(self, context: dict[str, ContextValue]) -> None:
        for cid, value in context.items():
            if cid in self.questions:
                self.r.problem(value.line, f"context value {cid!r}: a question has the same id")
            source = value.source
            if source and source[0] == "previous_checkin" and source[1] not in self.questions:
                self.r.problem(value.line, f"context value {cid!r}: 'from' names no question here")

    def trend(
        self, context: dict[str, ContextValue], derived: tuple[Derived, ...]
    ) -> tuple[TrendSeries, ...]:
        """A follow-up's trend (optional): per line, its name, the check-in's question or
        derived value, and the context value at the start. Call after ``derived``."""
        r = self.r
        known = set(self.questions) | {d.id for d in derived}
        out: list[TrendSeries] = []
        for raw, line in r.items(self.top, "trend", "questionnaire", required=False):
            data = r.mapping(raw, line, "trend line", ("name", "checkin"), ("start",))
            if data is None:
                continue
            name = r.identifier(data, "name", "trend line")
            where = f"trend line {name!r}"
            checkin = r.identifier(data, "checkin", where)
            if checkin not in known:
                r.problem(
                    data.line_of("checkin"), f"{where}: no question or derived value {checkin!r}"
                )
            start = data.get("start")
            if start is not None and start not in context:
                r.problem(data.line_of("start"), f"{where}: no context value {start!r}")
            if any(s.name == name for s in out):
                r.problem(data.line_of("name"), f"{where}: duplicate name")
            out.append(TrendSeries(name, checkin, None if start is None else str(start)))
        return tuple(out)

    def progression(self, rules: tuple[Rule, ...]) -> Progression | None:
        """How a follow-up moves each plan block (optional): per block, a days question and a
        feel question (ids from patterns with {block}), and what each feel answer does; when no
        block may move up, and which rules pause every block. Call after ``rules``."""
        r = self.r
        if "progression" not in self.top:
            return None
        data = r.mapping(
            self.top["progression"], self.top.line_of("progression"), "progression",
            ("days_question", "feel_question", "moves"),
            ("hold_when", "why_held", "min_days_between_ups", "why_too_soon", "pause_all_reasons",
             "why_paused_all"),
        )  # fmt: skip
        if data is None:
            return None
        days = r.text(data, "days_question", "progression") or ""
        feel = r.text(data, "feel_question", "progression") or ""
        for key, pattern in (("days_question", days), ("feel_question", feel)):
            if "{block}" not in pattern:
                r.problem(data.line_of(key), f"progression: {key!r} must contain {{block}}")
        feel_questions = [q for qid, q in self.questions.items() if _matches(feel, qid)]
        if not feel_questions:
            r.problem(data.line_of("feel_question"), "progression: no question matches it")
        moves: list[Move] = []
        for raw, line in r.items(data, "moves", "progression"):
            item = r.mapping(
                raw,
                line,
                "progression move",
                ("feel", "move", "why"),
                ("min_days", "why_too_few_days", "why_at_end"),
            )
            if item is None:
                continue
            code = str(item.get("feel"))
            where = f"progression move {code!r}"
            for question in feel_questions:
                if code not in question.option_codes:
                    r.problem(item.line_of("feel"), f"{where}: not an option of {question.id!r}")
            move = r.one_of(item, "move", where, ("up", "down", "stay", "pause"))
            min_days = (
                r.integer(item, "min_days", where, low=0, high=7) if "min_days" in item else 0
            )
            moves.append(
                Move(
                    code,
                    move,
                    r.text(item, "why", where) or "",
                    min_days or 0,
                    r.text(item, "why_too_few_days", where, required=False),
                    r.text(item, "why_at_end", where, required=False),
                )
            )
        # Each of these needs its text: without one, a held step would say why it moved on.
        for key, needs in (
            ("hold_when", "why_held"),
            ("min_days_between_ups", "why_too_soon"),
            ("pause_all_reasons", "why_paused_all"),
        ):
            _needs_key(r, data, key, needs, "progression")
        hold_when = r.expr(data, "hold_when", "progression", self.scope)
        why_held = r.text(data, "why_held", "progression", required=hold_when is not None)
        min_days = (
            r.integer(data, "min_days_between_ups", "progression", low=0, high=60)
            if "min_days_between_ups" in data
            else 0
        )
        why_too_soon = r.text(data, "why_too_soon", "progression", required=bool(min_days))
        codes = {rule.code for rule in rules}
        pause_all = [
            str(code)
            for code, _ in r.items(data, "pause_all_reasons", "progression", required=False)
        ]
        for code in pause_all:
            if code not in codes:
                r.problem(
                    data.line_of("pause_all_reasons"), f"progression: no triage rule {code!r}"
                )
        why_paused_all = r.text(data, "why_paused_all", "progression", required=bool(pause_all))
        return Progression(
            days, feel, tuple(moves), hold_when, why_held, min_days or 0, why_too_soon,
            frozenset(pause_all), why_paused_all,
        )  # fmt: skip

    # -- safety net and removed ids -------------------------------------------------------------
    def safety_net(self) -> SafetyNet | None:
        """The warning signs every result lists (optional: version 1.0.0 had none)."""
        r = self.r
        if "safety_net" not in self.top:
            return None
        data = r.mapping(
            self.top["safety_net"],
            self.top.line_of("safety_net"),
            "safety_net",
            ("title", "signs", "action", "self_care"),
            ("today_title", "today_signs"),
        )
        if data is None:
            return None
        today = "today_title" in data or "today_signs" in data
        _needs_key(r, data, "today_title", "today_signs", "safety_net")
        _needs_key(r, data, "today_signs", "today_title", "safety_net")
        return SafetyNet(
            title=r.text(data, "title", "safety_net") or "",
            signs=r.texts(data, "signs", "safety_net", 1, 12),
            action=r.text(data, "action", "safety_net") or "",
            self_care=r.text(data, "self_care", "safety_net") or "",
            today_title=r.text(data, "today_title", "safety_net") if today else None,
            today_signs=r.texts(data, "today_signs", "safety_net", 1, 12) if today else (),
        )

    def removed(self) -> dict[str, Removed]:
        """Ids that earlier versions had: each names the version that removed it and, if there
        is one, the question to send instead. Call after ``sections``."""
        r = self.r
        out: dict[str, Removed] = {}
        for raw, line in r.items(self.top, "removed", "questionnaire", required=False):
            data = r.mapping(raw, line, "removed id", ("id", "version"), ("use",))
            if data is None:
                continue
            rid = r.identifier(data, "id", "removed id")
            if rid in self.questions:
                r.problem(data.line_of("id"), f"removed id {rid!r} is a question of this version")
            use = r.text(data, "use", f"removed id {rid!r}", required=False)
            if use is not None and use not in self.questions:
                r.problem(
                    data.line_of("use"), f"removed id {rid!r}: 'use' names no question ({use!r})"
                )
            out[rid] = Removed(rid, r.text(data, "version", f"removed id {rid!r}") or "", use)
        return out

    # -- sections, pages, questions -----------------------------------------------------------
    def sections(self) -> tuple[Section, ...]:
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
        for position, question in enumerate(self.questions.values()):
            question.position = position
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
            (
                "hint",
                "options",
                "min",
                "max",
                "unit",
                "widget",
                "required",
                "when",
                "image",
                "image_alt",
            ),
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
                code = r.identifier(opt, "code", f"{where} option", CODE)
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
            image=r.text(data, "image", where, required=False),
            image_alt=r.text(data, "image_alt", where, required=False),
            required=r.flag(data, "required", where, True),
            page_id=page_id,
            section_id=section_id,
            option_codes=frozenset(o.code for o in options),
        )
        if bool(question.image) != bool(question.image_alt):
            r.problem(
                data.line, f"{where}: 'image' and 'image_alt' go together (alt text is required)"
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
    def derived(self) -> tuple[Derived, ...]:
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
        graph = {did: names_in(data.get("value")) & set(raws) for did, (data, _) in raws.items()}
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
                needs |= self.derived_needs.get(name, {name})
            self.derived_needs[did] = needs
            derived.append(
                Derived(did, expr, data.line, r.text(data, "label", did, required=False))
            )
        # Keep the author's order for display.
        position = {did: i for i, did in enumerate(raws)}
        return tuple(sorted(derived, key=lambda d: position[d.id]))

    # -- branching conditions -----------------------------------------------------------------
    def conditions(self, sections: tuple[Section, ...]) -> None:
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

    # -- triage rules ---------------------------------------------------------------------------
    def rules(self, levels: tuple[Level, ...]) -> tuple[Rule, ...]:
        r = self.r
        ranks = {level.code: level.rank for level in levels}
        rules: list[Rule] = []
        for raw, line in r.items(self.top, "triage", "questionnaire"):
            data = r.mapping(
                raw,
                line,
                "triage rule",
                ("code", "level", "when", "message"),
                ("clinician", "action"),
            )
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
                    r.text(data, "clinician", where, required=False) or "",
                    r.text(data, "action", where, required=False) or "",
                )
            )
        return tuple(rules)

    # -- contributors ---------------------------------------------------------------------------
    def contributors(self) -> tuple[Contributor, ...]:
        r = self.r
        out: list[Contributor] = []
        for raw, line in r.items(self.top, "contributors", "questionnaire"):
            data = r.mapping(
                raw,
                line,
                "contributor",
                ("code", "label", "why", "advice", "bands"),
                ("add", "max", "discuss"),
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
                    why=r.template(data, "why", where, self.scope),
                    advice=r.template(data, "advice", where, self.scope),
                    bands=r.scored_list(data, "bands", where, self.scope, high=10),
                    bonuses=r.scored_list(data, "add", where, self.scope, high=10),
                    maximum=maximum or 3,
                    line=data.line,
                    discuss=(
                        r.template(data, "discuss", where, self.scope)
                        if "discuss" in data
                        else None
                    ),
                )
            )
        return tuple(out)


def _matches(pattern: str, qid: str) -> bool:
    """Whether a question id fits a pattern such as "{block}_feel"."""
    head, _, tail = pattern.partition("{block}")
    return len(qid) > len(head) + len(tail) and qid.startswith(head) and qid.endswith(tail)


def _needs_key(r: FieldReader, data: LDict, key: str, needs: str, what: str) -> None:
    """An optional key that needs another (e.g. a condition and the text it shows)."""
    if key in data and needs not in data:
        r.problem(data.line_of(key), f"{what}: missing required key {needs!r} (with {key!r})")
