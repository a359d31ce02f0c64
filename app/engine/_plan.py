"""The exercise-blocks file, and the questionnaire's plan section that weighs those blocks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from ._errors import DefinitionError
from ._expr import Expr, ExprError, VarInfo, compile_expr
from ._fields import FieldReader
from ._model import Advice, BlockRelevance, Contributor, ExerciseBlock, PlanSpec, StartRule, Step
from ._texts import put_texts
from ._yaml import LDict, load_yaml

_STEP_KEYS: Final = ("code", "title", "how", "cues", "mistakes", "progress_when")


def load_exercise_blocks(path: str | Path) -> dict[str, ExerciseBlock]:
    """Load an exercise-blocks file; raises DefinitionError listing every problem."""
    path = Path(path)
    r = FieldReader(str(path))
    blocks = read_blocks(r, path)
    if r.problems:
        raise DefinitionError(r.problems)
    return blocks


def read_blocks(
    r: FieldReader, path: Path, texts: Mapping[str, str] | None = None
) -> dict[str, ExerciseBlock]:
    """The blocks of an exercise-blocks file, by code; problems go to ``r`` (the questionnaire's
    reader when the questionnaire names the file, so both files are reported together).
    ``texts``: a checked translation's texts, put in place of the English ones."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        r.problem(1, f"cannot read the file: {exc.strerror}")
        return {}
    raw, problems = load_yaml(text, str(path))
    r.problems.extend(problems)
    if texts and isinstance(raw, LDict):
        put_texts(raw, texts)
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


def _read_step(r: FieldReader, raw: Any, line: int, what: str) -> Step | None:
    data = r.mapping(raw, line, what, _STEP_KEYS, ("image", "image_alt", "avoid_when", "cautions"))
    if data is None:
        return None
    code = r.identifier(data, "code", what)
    where = f"{what} {code!r}"
    image = r.text(data, "image", where, required=False)
    image_alt = r.text(data, "image_alt", where, required=False)
    if bool(image) != bool(image_alt):
        r.problem(data.line, f"{where}: 'image' and 'image_alt' go together (alt text is required)")
    avoid_when = None
    if "avoid_when" in data:
        if isinstance(data["avoid_when"], str) and data["avoid_when"].strip():
            avoid_when = data["avoid_when"]
        else:
            r.problem(data.line_of("avoid_when"), f"{where}: 'avoid_when' must be a condition")
    cautions: list[tuple[str, str]] = []
    for caution_raw, caution_line in r.items(data, "cautions", where, required=False):
        caution = r.mapping(caution_raw, caution_line, f"{where} caution", ("when", "text"), ())
        if caution is None:
            continue
        when = caution.get("when")
        if not isinstance(when, str) or not when.strip():
            r.problem(caution.line_of("when"), f"{where} caution: 'when' must be a condition")
            continue
        cautions.append((when, r.text(caution, "text", f"{where} caution") or ""))
    return Step(
        code=code,
        title=r.text(data, "title", where) or "",
        how=r.text(data, "how", where) or "",
        cues=r.texts(data, "cues", where, 2, 4),
        mistakes=r.texts(data, "mistakes", where, 1, 4),
        progress_when=r.text(data, "progress_when", where) or "",
        image=image or None,
        image_alt=image_alt or None,
        avoid_when=avoid_when,
        cautions=tuple(cautions),
    )


def read_plan(
    r: FieldReader,
    top: LDict,
    scope: Mapping[str, VarInfo],
    contributors: tuple[Contributor, ...],
    blocks: dict[str, ExerciseBlock],
) -> PlanSpec:
    """The questionnaire's ``plan``: how relevant each block is, where it starts, and advice.

    Every block of the blocks file must be weighed here, and only those blocks and their steps.
    """
    data = r.mapping(
        top.get("plan"),
        top.line_of("plan"),
        "plan",
        ("focus", "blocks"),
        ("advice", "from_first", "dropped_advice"),
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
            start.append(StartRule(r.expr(rule, "when", f"{where} start", scope), str(step)))
        avoid, cautions = _suitability(r, block, scope, item.line, where)
        companion_avoid: Expr | None = None
        companion_cautions: tuple[tuple[Expr, str], ...] = ()
        if block is not None and block.companion is not None:
            (companion_avoid,), (companion_cautions,) = _step_suitability(
                r, (block.companion,), scope, item.line, f"{where} companion"
            )
        relevances.append(
            BlockRelevance(
                code,
                _weights(r, item, where, codes),
                r.scored_list(item, "add", where, scope, high=10),
                tuple(start),
                item.line,
                avoid,
                cautions,
                companion_avoid,
                companion_cautions,
            )
        )
    for code in blocks:
        if not any(b.code == code for b in relevances):
            r.problem(
                data.line_of("blocks"),
                f"plan: exercise block {code!r} has no relevance weights here",
            )
    step_codes = {
        step.code
        for block in blocks.values()
        for step in (*block.steps, *((block.companion,) if block.companion else ()))
    }
    advice: list[Advice] = []
    for raw, line in r.items(data, "advice", "plan", required=False):
        item = r.mapping(raw, line, "plan advice", ("text",), ("when", "with_steps"))
        if item is None:
            continue
        with_steps = [str(s) for s, _ in r.items(item, "with_steps", "plan advice", required=False)]
        for step in with_steps:
            if blocks and step not in step_codes:
                r.problem(item.line_of("with_steps"), f"plan advice: no step {step!r} in any block")
        advice.append(
            Advice(
                r.expr(item, "when", "plan advice", scope),
                r.template(item, "text", "plan advice", scope),
                frozenset(with_steps),
            )
        )
    from_first = r.expr(data, "from_first", "plan", scope)
    return PlanSpec(
        focus, tuple(relevances), tuple(advice), from_first, _dropped_advice(r, data, scope)
    )


def _dropped_advice(
    r: FieldReader, data: LDict, scope: Mapping[str, VarInfo]
) -> tuple[Advice, ...]:
    """What the plan says about blocks left out: one text, or texts with conditions (the first
    that holds is used)."""
    if "dropped_advice" not in data:
        return ()
    if isinstance(data["dropped_advice"], str):
        return (Advice(None, r.text(data, "dropped_advice", "plan") or ""),)
    out: list[Advice] = []
    for raw, line in r.items(data, "dropped_advice", "plan"):
        item = r.mapping(raw, line, "plan dropped_advice", ("text",), ("when",))
        if item is not None:
            out.append(
                Advice(
                    r.expr(item, "when", "plan dropped_advice", scope),
                    r.text(item, "text", "plan dropped_advice") or "",
                )
            )
    return tuple(out)


def _suitability(
    r: FieldReader,
    block: ExerciseBlock | None,
    scope: Mapping[str, VarInfo],
    line: int,
    where: str,
) -> tuple[tuple[Expr | None, ...], tuple[tuple[tuple[Expr, str], ...], ...]]:
    """Each step's ``avoid_when`` and ``cautions``, compiled against the questionnaire's names:
    the blocks file says when a step does not suit, but only the questionnaire knows the
    answers. Problems are reported at the plan block's line, naming the step."""
    if block is None:
        return (), ()  # reported already; no steps to weigh
    return _step_suitability(r, block.steps, scope, line, where)


def _step_suitability(
    r: FieldReader,
    steps: tuple[Step, ...],
    scope: Mapping[str, VarInfo],
    line: int,
    where: str,
) -> tuple[tuple[Expr | None, ...], tuple[tuple[tuple[Expr, str], ...], ...]]:
    avoid: list[Expr | None] = []
    cautions: list[tuple[tuple[Expr, str], ...]] = []
    for step in steps:
        avoid.append(
            _compile(r, step.avoid_when, scope, line, f"{where} step {step.code!r} avoid_when")
        )
        compiled = []
        for source, text in step.cautions:
            expr = _compile(r, source, scope, line, f"{where} step {step.code!r} caution")
            if expr is not None:
                compiled.append((expr, text))
        cautions.append(tuple(compiled))
    return tuple(avoid), tuple(cautions)


def _compile(
    r: FieldReader, source: str | None, scope: Mapping[str, VarInfo], line: int, what: str
) -> Expr | None:
    if source is None:
        return None
    try:
        return compile_expr(source, scope)
    except ExprError as exc:
        r.problem(line, f"{what}: {exc.message} (at column {exc.column} of {source.strip()!r})")
        return None


def _weights(
    r: FieldReader, item: LDict, where: str, contributors: set[str]
) -> tuple[tuple[str, int], ...]:
    """A block's multiplier for each contributor's score."""
    raw = item.get("weights")
    if not isinstance(raw, LDict):
        r.problem(
            item.line_of("weights"), f"{where}: 'weights' must map contributor codes to numbers"
        )
        return ()
    weights: list[tuple[str, int]] = []
    for contributor, weight in raw.items():
        if contributor not in contributors:
            r.problem(raw.line_of(contributor), f"{where}: unknown contributor {contributor!r}")
        elif isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 10:
            r.problem(
                raw.line_of(contributor),
                f"{where}: weight of {contributor!r} must be a whole number from 0 to 10",
            )
        else:
            weights.append((contributor, weight))
    return tuple(weights)
