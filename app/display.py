"""How results and plans read on a page: shared by the patient pages and the staff pages (each
door has its own templates; the words and numbers come from here). An answer's words are
app/answer_text.py's, which the CSV exports share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any, Final

from app.config import HelpLines
from app.engine import ContributorScore, ExerciseStep, Level, Plan, TrendPoint
from app.i18n import N_, gettext

# -- Result ---------------------------------------------------------------------------------------

# Marked for translation; the pages gettext them where they show them.
SCORE_WORDS: Final = {1: N_("a small factor"), 2: N_("a moderate factor"), 3: N_("a strong factor")}


@dataclass(frozen=True, slots=True)
class ChartBar:
    label: str
    score: int
    y: int  # top of the row, in the chart's own units
    width: int  # bar length


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[ChartBar]
    width: int
    height: int
    left: int  # where the bars start: the scale's 0
    bar_max: int
    ticks: list[tuple[int, int]]  # (score, x)
    summary: str


CHART_WIDTH: Final = 300
# Room left of the 0 line for half of its centred label, so the "0" is not cut off.
CHART_LEFT: Final = 8
CHART_BAR_MAX: Final = 240
CHART_ROW: Final = 46


def contributor_chart(contributors: list[ContributorScore]) -> Chart | None:
    """A horizontal bar chart, scores 0 to 3; a narrow drawing, so its text stays readable when
    a phone scales it down."""
    if not contributors:
        return None
    bars = [
        ChartBar(
            label=c["label"],
            score=int(c["score"]),
            y=index * CHART_ROW,
            width=round(CHART_BAR_MAX * int(c["score"]) / 3),
        )
        for index, c in enumerate(contributors)
    ]
    summary = gettext("; ").join(
        gettext("%(contributor)s: %(score)s out of 3")
        % {"contributor": c["label"], "score": c["score"]}
        for c in contributors
    )
    return Chart(
        bars=bars,
        width=CHART_WIDTH,
        height=len(bars) * CHART_ROW + 18,
        left=CHART_LEFT,
        bar_max=CHART_BAR_MAX,
        ticks=[(score, CHART_LEFT + round(CHART_BAR_MAX * score / 3)) for score in range(4)],
        summary=summary,
    )


@dataclass(frozen=True, slots=True)
class TrendRow:
    label: str  # "Start", "Check-in 1", ...
    at: date
    pain: float | None  # the weekly average
    peg: float | None
    pain_now: float | None = None  # on the day (check-ins only)
    provisional: bool = False  # a PEG baseline the first check-in stood in for


@dataclass(frozen=True, slots=True)
class TrendChart:
    """Pain and PEG (both 0 to 10) over time, like with like: the weekly average pain and the
    PEG score as lines, the pain on the day as separate marks, and a table that says the same."""

    rows: list[TrendRow]
    pain: list[tuple[int, int]]  # the weekly-average pain line's points, in the drawing's units
    peg: list[tuple[int, int]]
    pain_now: list[tuple[int, int]] = field(default_factory=list)
    width: int = 300
    height: int = 120
    left: int = 30  # the 0-10 axis
    top: int = 10
    bottom: int = 100

    @staticmethod
    def points(line: list[tuple[int, int]]) -> str:
        return " ".join(f"{x},{y}" for x, y in line)


def trend_chart(points: list[TrendPoint], zone: tzinfo | None = None) -> TrendChart:
    """``points``: a check-in's ``trend`` (services.checkin_trend.trend), oldest first. ``zone``:
    the one the dates are read in (a clinic's), else as stored (UTC)."""
    chart = TrendChart(rows=[], pain=[], peg=[])
    inner_w = chart.width - chart.left - 10
    inner_h = chart.bottom - chart.top
    count = max(len(points) - 1, 1)

    def line(key: str) -> list[tuple[int, int]]:
        return [
            (
                round(chart.left + inner_w * i / count),
                round(chart.top + inner_h * (1 - value / 10)),
            )
            for i, p in enumerate(points)
            if (value := _number(p, key)) is not None
        ]

    rows = [
        TrendRow(
            gettext("Start") if i == 0 else gettext("Check-in %(number)s") % {"number": i},
            datetime.fromisoformat(str(p["at"])).astimezone(zone).date()
            if zone
            else datetime.fromisoformat(str(p["at"])).date(),
            _number(p, "pain"),
            _number(p, "peg"),
            _number(p, "pain_now"),
            bool(p.get("provisional")),
        )
        for i, p in enumerate(points)
    ]
    return TrendChart(rows=rows, pain=line("pain"), peg=line("peg"), pain_now=line("pain_now"))


def _number(point: TrendPoint, line: str) -> float | None:
    """A line's value at a point; None where it has none (a check-in stopped early)."""
    value = point.get(line)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class PlanBlock:
    code: str
    title: str
    summary: str
    dose: str
    focus: bool
    # The step to start with; None when no step suits the person (e.g. no hangs with a
    # shoulder problem): the block then keeps only its companion stretch.
    step: ExerciseStep | None
    step_number: int  # 1-based, counting only the steps that suit the person
    step_count: int  # the steps that suit the person
    later: list[ExerciseStep]  # the steps after it that suit the person, listed briefly
    companion: ExerciseStep | None
    left_out: int  # how many of the block's steps were left out because they may not suit
    paused: bool = False  # a check-in paused it (it made the pain worse, or see a doctor first)

    @property
    def start_title(self) -> str:
        """What to start with: the step, or the block's stretch when no step suits."""
        first = self.step or self.companion
        return first["title"] if first else ""

    @property
    def cautions(self) -> list[str]:
        """Extra tips for this person at the starting step (from version 2.0.0)."""
        return list(self.step.get("cautions") or []) if self.step else []


def plan_blocks(plan: Plan | None) -> tuple[list[PlanBlock], list[PlanBlock]]:
    """The plan's blocks as (focus, optional), each at its starting step.

    ``start_step`` is an index into ``steps`` (version 2.0.0 on; null when no step suits), or a
    step's code in results stored by version 1.0.0. Steps marked ``allowed: false`` are left
    out of the numbering and of the steps listed after the start; 1.0.0 steps have no mark and
    all count."""
    if not plan:
        return [], []
    focus: list[PlanBlock] = []
    optional: list[PlanBlock] = []
    for block in plan["blocks"]:
        steps = block["steps"]
        start = _start_index(block.get("start_step"), steps)
        suitable = [i for i, s in enumerate(steps) if s.get("allowed", True)]
        if start is not None and start not in suitable:
            suitable = sorted({*suitable, start})  # never hide the step the plan starts at
        position = suitable.index(start) if start is not None else 0
        entry = PlanBlock(
            code=block["code"],
            title=block["title"],
            summary=block.get("summary", ""),
            dose=block["dose"],
            focus=bool(block["focus"]),
            step=steps[start] if start is not None else None,
            step_number=position + 1,
            step_count=len(suitable),
            later=[steps[i] for i in suitable[position + 1 :]] if start is not None else [],
            companion=block.get("companion"),
            left_out=len(steps) - len(suitable),
            paused=bool(block.get("paused")),
        )
        (focus if entry.focus else optional).append(entry)
    return focus, optional


def _start_index(start: int | str | None, steps: list[ExerciseStep]) -> int | None:
    """The index of the starting step: an int as it is (2.0.0), a code looked up (1.0.0)."""
    if start is None:
        return None
    if isinstance(start, int) and not isinstance(start, bool):
        return start if 0 <= start < len(steps) else None
    return next((i for i, s in enumerate(steps) if s["code"] == start), 0)


def dropped_titles(plan: Plan | None, blocks: Mapping[str, Any]) -> list[str]:
    """The titles of the blocks left out of a plan because none of their steps suits the
    person (``plan.dropped``, from version 2.0.0), from the record's own exercise blocks; a
    code they no longer have is shown as it is."""
    if not plan:
        return []
    return [
        getattr(blocks.get(code), "title", None) or str(code) for code in plan.get("dropped", [])
    ]


@dataclass(frozen=True, slots=True)
class LevelLook:
    """How a triage level shows: its CSS modifier, badge, icon and staff name (never colour
    alone: the words and the icon differ too). From the questionnaire's ``levels``."""

    style: str
    badge: str
    icon: str
    label: str


def level_look(level: Level | None, code: str = "") -> LevelLook:
    """A level's look; a code no loaded definition has (a removed level) shows as advice."""
    if level is None:
        return LevelLook("see-doctor", gettext("Advice"), "doctor", code)
    return LevelLook(level.style, level.badge, level.icon, level.label)


def released_look(self_care: Level | None) -> LevelLook:
    """How a result whose programme a clinician released shows to the person: as the
    programme-fits level, with a badge that says why."""
    look = level_look(self_care, "self_care")
    return LevelLook(look.style, gettext("Released after review"), look.icon, look.label)


# -- Who to call ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhoneCall:
    number: str
    name: str  # what people call it ("NHS 111"); it shows the number (app/config.py checks)

    @property
    def href(self) -> str:
        return f"tel:{self.number}"


@dataclass(frozen=True, slots=True)
class HelpNow:
    """What an emergency or urgent result leads with: the number to call now, and for urgent
    advice, where to get it online; for an emergency, where the nearest A&E is; for both, the
    same number through the text relay (people who cannot hear or speak on the phone). The
    numbers are settings: they differ by country."""

    call: PhoneCall
    online_url: str | None = None
    online_name: str | None = None
    find_url: str | None = None
    find_name: str | None = None
    relay: str | None = None  # shown, not a tel: link: a textphone or the relay app dials it
    relay_name: str | None = None


# The help lines' default names that are words, not names (app/config.py HelpLines), for the
# catalog: a translation replaces them where the defaults are used.
DEFAULT_NAMES: Final = (N_("Find your nearest A&E"), N_("NHS 111 online"))


def help_now(lines: HelpLines, *, most_urgent: bool, urgent: bool) -> HelpNow | None:
    """The most urgent level (rank 0) calls the emergency number; other urgent levels the
    urgent-advice line and its website; the rest have no call to make now."""
    if not (most_urgent or urgent):
        return None
    number, name = (
        (lines.emergency_number, lines.emergency_name)
        if most_urgent
        else (lines.urgent_number, lines.urgent_name)
    )
    relay = f"{lines.text_relay_prefix} {number}" if lines.text_relay_prefix else None
    found = bool(most_urgent and lines.find_emergency_url)
    online = bool(not most_urgent and lines.urgent_online_url)
    return HelpNow(
        PhoneCall(number, name),
        online_url=lines.urgent_online_url if online else None,
        # The settings' words: their defaults are in the catalog (DEFAULT_NAMES), a deployer's
        # own words are shown as they are.
        online_name=gettext(lines.urgent_online_name) if online else None,
        find_url=lines.find_emergency_url if found else None,
        find_name=gettext(lines.find_emergency_name) if found else None,
        relay=relay,
        relay_name=lines.text_relay_name if relay else None,
    )
