"""A realistic generated data set: N stored submissions of questionnaire 2.0.0, for
`backaudit replay` (the change impact of a new version) and `backaudit report rules`.

    DATABASE_URL=sqlite:////tmp/replay.db .venv/bin/python benchmarks/dataset.py -n 2000
    DATABASE_URL=sqlite:////tmp/replay.db .venv/bin/backaudit replay --to 2.1.0

Each person is drawn from the seeded random generator (`--seed`, default 2026: the same seed
gives the same answers), answers every question of the real 2.0.0 definition
(`questionnaires/low-back-audit-2.0.0.yaml`), and is stored through the one write path,
`app.services.assessments.record`, after the engine has evaluated the answers (the answers
its branching hides are dropped, as the form never asks them). Then each record is back-dated
to a random moment of the last `--months` months (the write path stamps "now").

Who they are, and how often (per person). Rough, from what is known of adults who see a GP
or a physio about low back pain: most have ordinary back pain; serious causes are rare (under
1 in 100), but single red-flag answers are common (Henschke et al. 2009; NICE NG59, NG65):

| what | how often |
|---|---|
| age | normal around 47 (sd 16), 18 to 90; 55% women |
| where | 60% through a clinic's intake link (three clinics, 50/30/20), 40% the public web form; spread evenly over the last 12 months |
| emergency signs | saddle numbness 0.3%, bladder 0.6%, bowel 0.2%, sexual function 0.4%, both legs 0.8%, chest pain 0.2%; a serious accident in the last 6 weeks 0.3% (longer ago 3%) |
| urgent signs | leg weakness 2%, walking difficulty 1.5% (3% from 70), fever 0.7%, weight loss 1%, night pain 6%, pain on straining 5%, mainly upper back 3%, back shape 0.5% |
| history | cancer 1% under 40, 4% at 40–59, 10% at 60–74, 15% from 75; osteoporosis or steroids 1.5% under 60, from 60 5% of men and 15% of women; infection risk 1.5%; pregnant 6% of women up to 45 |
| pain duration | under 6 weeks 40%, 6 to 12 weeks 20%, over 12 weeks 40% |
| first episode | 35% |
| onset | gradual 45%, lifting or twisting 30%, sudden for no reason 18%, fall or blow 7% (15% from 65) (weights) |
| trend | under 6 weeks: improving 45%, same 45%, worse 10%; longer: 20%, 70%, 10% |
| pain (0–10) | normal around 4.8 (sd 1.9): about 1 in 13 at 8 or more |
| leg pain | none 60%, above the knee 25%, below 15%; worse than the back 35% (below) or 15% (above); numbness 20% with pain below the knee, else 5% |
| spine diagnosis | none 85%; else one (15% of them two) of disc bulge, disc herniation, arthritis, stenosis, spondylolisthesis, surgery, fracture, other (weights 30/25/25/10/5/5/2/3) |
| inflammatory features (when asked) | none 50%, one 22%, two 14%, three 8%, four 4%, five 2%; pain began before 45: 30% |
| body | height and weight known 80% (women 163 cm, men 177 cm, sd 7; BMI around 27.5, sd 5) |
| habits | no activity 25% (else a median of 90 min a week); strength days 0: 55%, 1: 15%, 2: 15%, 3: 10%, 4: 5%; stretching never 25%, rarely 30%, weekly 20%, several times a week 15%, daily 10%; sport 30% (one-sided 35% of them); weights 20% (loaded squats half of them); sleep around 6.8 h (sd 1.1), good 30%, fair 40%, poor 22%, very poor 8%; stiff on waking 55%; sitting around 7 h (sd 3), breaks every 30 min 20%, hourly 40%, rarely 40%; hunched 45%; smoker 15% |
| before you exercise (self-care only) | hip problem 8% (20% from 65), knee 10% (20%), shoulder 8%; falls or unsteady 5%, 20% from 65, 35% from 80; squat: cannot 20%, with support 45%, full 35% (from 65: 40/45/15); bridge: hard 40%, two legs 45%, one leg 15%; hang: cannot 55%, under 20 s 25%, over 20 s 20%; one side stiffer 25% |
| stopping early | 35% of those told to see a doctor (urgent or see a doctor) stop before the lifestyle questions; an emergency sign ends the questions (the engine) |

With the default seed, 2,000 people come out of 2.0.0 as emergency 3.6%, urgent 19.9%, see a
doctor 44.6% and self-care 31.8%: 2.0.0 sends many people with ordinary back pain to a doctor
for one common reason (pain below the knee, a known spine condition, a first episode over 50,
pain that is getting worse, pain of 8 or more).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, update  # noqa: E402
from sqlmodel import Session, col  # noqa: E402

from app.config import get_settings  # noqa: E402
from app.engine import TRIAGE_LEVEL, Questionnaire, evaluate  # noqa: E402
from app.migrate import command_session  # noqa: E402
from app.models import Assessment, utcnow  # noqa: E402
from app.services import assessments, clinics  # noqa: E402
from app.services.questionnaires import DEFAULT_QUESTIONNAIRE, Registry  # noqa: E402

VERSION = "2.0.0"
CLINICS = (("Riverside Physio", 0.5), ("Hilltop GP", 0.3), ("Harbour Back Clinic", 0.2))
INTAKE_SHARE = 0.6
STOP_EARLY = 0.35
# The sections after the pain history: what a person who stops early has not answered.
LATER_SECTIONS = frozenset({"lifestyle", "movement"})
INFLAMMATORY = (
    "started_before_35", "wakes_second_half_night", "buttock_pain", "better_with_movement",
    "better_with_nsaids", "family_history", "other_joint_arthritis", "heel_or_tendon_pain",
    "psoriasis",
)  # fmt: skip
DIAGNOSES = (
    ("disc_bulge", 30),
    ("disc_herniation", 25),
    ("arthritis", 25),
    ("spinal_stenosis", 10),
    ("spondylolisthesis", 5),
    ("spine_surgery", 5),
    ("spinal_fracture", 2),
    ("other_spine_condition", 3),
)


def pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def person(rng: random.Random) -> dict[str, Any]:
    """One person's answers to every question of 2.0.0 (the engine drops what it hides)."""
    age = round(clip(rng.gauss(47, 16), 18, 90))
    woman = chance(rng, 0.55)
    older = age >= 60
    a: dict[str, Any] = {
        "age": age,
        "saddle_numbness": chance(rng, 0.003),
        "bladder_change": chance(rng, 0.006),
        "bowel_change": chance(rng, 0.002),
        "sexual_function_change": chance(rng, 0.004),
        "both_legs": chance(rng, 0.008),
        "chest_pain": chance(rng, 0.002),
        "serious_accident": pick(
            rng, [("no", 0.967), ("last_6_weeks", 0.003), ("longer_ago", 0.03)]
        ),
        "leg_weakness": chance(rng, 0.02),
        "walking_difficulty": chance(rng, 0.03 if age >= 70 else 0.015),
        "fever": chance(rng, 0.007),
        "weight_loss": chance(rng, 0.01),
        "night_pain": chance(rng, 0.06),
        "pain_on_straining": chance(rng, 0.05),
        "thoracic_pain": chance(rng, 0.03),
        "back_shape_change": chance(rng, 0.005),
        "cancer_history": chance(
            rng, 0.01 if age < 40 else 0.04 if age < 60 else 0.10 if age < 75 else 0.15
        ),
        "osteoporosis_or_steroids": chance(rng, (0.15 if woman else 0.05) if older else 0.015),
        "infection_risk": chance(rng, 0.015),
        "pregnant": woman and age <= 45 and chance(rng, 0.06),
    }
    duration = pick(rng, [("under_6_weeks", 40), ("6_to_12_weeks", 20), ("over_12_weeks", 40)])
    trend = (
        [("improving", 45), ("same", 45), ("worse", 10)]
        if duration == "under_6_weeks"
        else [("improving", 20), ("same", 70), ("worse", 10)]
    )
    leg = pick(rng, [("none", 60), ("above_knee", 25), ("below_knee", 15)])
    a |= {
        "pain_duration": duration,
        "first_episode": chance(rng, 0.35),
        "onset": pick(
            rng,
            [
                ("gradual", 45),
                ("lifting_or_twisting", 30),
                ("sudden_no_cause", 18),
                ("fall_or_blow", 15 if age >= 65 else 7),
            ],
        ),
        "pain_trend": pick(rng, trend),
        "pain_intensity": round(clip(rng.gauss(4.8, 1.9), 0, 10)),
        "leg_pain": leg,
        "leg_pain_worse_than_back": chance(rng, 0.35 if leg == "below_knee" else 0.15),
        "leg_numbness": chance(rng, 0.20 if leg == "below_knee" else 0.05),
        "spine_diagnosis": diagnoses(rng),
        "began_before_45": chance(rng, 0.30),
        "inflammatory_features": inflammatory(rng),
    }
    a |= lifestyle(rng, woman)
    a |= movement(rng, age)
    return a


def diagnoses(rng: random.Random) -> list[str]:
    if chance(rng, 0.85):
        return ["none"]
    first = pick(rng, DIAGNOSES)
    if chance(rng, 0.15):
        second = pick(rng, DIAGNOSES)
        return [first] if second == first else [first, second]
    return [first]


def inflammatory(rng: random.Random) -> list[str]:
    count = pick(rng, [(0, 50), (1, 22), (2, 14), (3, 8), (4, 4), (5, 2)])
    return rng.sample(INFLAMMATORY, count) if count else ["none"]


def lifestyle(rng: random.Random, woman: bool) -> dict[str, Any]:
    height = clip(rng.gauss(163 if woman else 177, 7), 140, 205)
    bmi = clip(rng.gauss(27.5, 5), 16, 50)
    weight = bmi * (height / 100) ** 2
    rating = (
        "under"
        if bmi < 18.5
        else "healthy"
        if bmi < 25
        else "a_bit_over"
        if bmi < 30
        else "very_over"
    )
    sitting = round(clip(rng.gauss(7, 3), 0, 16) * 2) / 2
    return {
        "knows_height_weight": chance(rng, 0.8),
        "height_cm": round(height),
        "weight_kg": round(weight, 1),
        "weight_self_rating": rating,
        "activity_minutes_week": 0
        if chance(rng, 0.25)
        else min(1500, round(rng.lognormvariate(4.5, 0.8))),
        "strength_days_week": pick(rng, [(0, 55), (1, 15), (2, 15), (3, 10), (4, 5)]),
        "stretching_frequency": pick(
            rng,
            [
                ("never", 25),
                ("rarely", 30),
                ("weekly", 20),
                ("several_times_a_week", 15),
                ("daily", 10),
            ],
        ),
        "plays_sports": (sport := chance(rng, 0.30)),
        "one_sided_sport": sport and chance(rng, 0.35),
        "lifts_weights": (weights := chance(rng, 0.20)),
        "loaded_squats": weights and chance(rng, 0.5),
        "sleep_hours": round(clip(rng.gauss(6.8, 1.1), 3, 11) * 2) / 2,
        "sleep_quality": pick(rng, [("good", 30), ("fair", 40), ("poor", 22), ("very_poor", 8)]),
        "wakes_stiff": chance(rng, 0.55),
        "sitting_hours": sitting,
        "sitting_breaks": pick(rng, [("every_30_min", 20), ("hourly", 40), ("rarely", 40)]),
        "hunched_posture": chance(rng, 0.45),
        "smoker": chance(rng, 0.15),
    }


def movement(rng: random.Random, age: int) -> dict[str, Any]:
    joints = [
        j
        for j, p in (
            ("hip", 0.20 if age >= 65 else 0.08),
            ("knee", 0.20 if age >= 65 else 0.10),
            ("shoulder", 0.08),
        )
        if chance(rng, p)
    ]
    return {
        "joint_problems": joints or ["none"],
        "falls_or_unsteady": chance(rng, 0.35 if age >= 80 else 0.20 if age >= 65 else 0.05),
        "squat_check": pick(
            rng,
            [("cannot", 40), ("with_support", 45), ("full_heels_down", 15)]
            if age >= 65
            else [("cannot", 20), ("with_support", 45), ("full_heels_down", 35)],
        ),
        "bridge_check": pick(
            rng, [("hard_or_untried", 40), ("two_leg_easy", 45), ("single_leg_easy", 15)]
        ),
        "hang_check": pick(rng, [("cannot_or_untried", 55), ("under_20_s", 25), ("over_20_s", 20)]),
        "sides_differ": chance(rng, 0.25),
    }


def answers_given(
    q: Questionnaire, rng: random.Random, everything: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """What the person sent: the questions the branching showed them, less the later sections
    when they stopped after being told to see a doctor. (answers, stopped early)."""
    shown = evaluate(q, everything).answers
    level = evaluate(q, {k: v for k, v in shown.items() if _early(q, k)}).context[TRIAGE_LEVEL]
    if level not in ("urgent", "see_doctor") or not chance(rng, STOP_EARLY):
        return shown, False
    return {k: v for k, v in shown.items() if _early(q, k)}, True


def _early(q: Questionnaire, question_id: str) -> bool:
    return q.question_by_id[question_id].section_id not in LATER_SECTIONS


def populate(
    session: Session,
    registry: Registry,
    count: int,
    *,
    seed: int = 2026,
    months: int = 12,
    now: datetime | None = None,
) -> Counter[str]:
    """Store ``count`` generated submissions of 2.0.0 (three clinics are made); the levels
    they got. Commits as it goes."""
    rng = random.Random(seed)
    q = registry.exact("low-back-audit", VERSION)
    now = now or utcnow()
    clinic_ids = [(clinics.create_clinic(session, name=name).id, w) for name, w in CLINICS]
    session.commit()
    levels: Counter[str] = Counter()
    dates: list[dict[str, Any]] = []
    span = timedelta(days=30.44 * months).total_seconds()
    for n in range(count):
        answers, stopped = answers_given(q, rng, person(rng))
        clinic_id: uuid.UUID | None = None
        if chance(rng, INTAKE_SHARE):
            clinic_id = pick(rng, clinic_ids)
        recorded = assessments.record(
            session,
            evaluate(q, answers),
            channel="intake" if clinic_id else "web",
            clinic_id=clinic_id,
            allow_incomplete=stopped,
        )
        levels[recorded.result["triage"]["level"]] += 1
        when = now - timedelta(seconds=rng.uniform(0, span))
        dates.append({"row": recorded.id, "at": when})
        if len(dates) == 500 or n == count - 1:
            session.connection().execute(_BACKDATE, dates)
            session.commit()
            dates = []
    return levels


_BACKDATE = (
    update(Assessment)
    .where(col(Assessment.id) == bindparam("row"))
    .values(created_at=bindparam("at"), updated_at=bindparam("at"))
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--count", type=int, default=2000, help="submissions to store")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--months", type=int, default=12, help="spread over this many months")
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    args = parser.parse_args()
    settings = get_settings()
    url = args.database_url or settings.database.url
    registry = Registry.load(
        settings.questionnaires_dir,
        DEFAULT_QUESTIONNAIRE,
        settings.help_lines.placeholders(),
    )
    started = time.perf_counter()
    with command_session(url) as session:
        levels = populate(session, registry, args.count, seed=args.seed, months=args.months)
    seconds = time.perf_counter() - started
    order = [level.code for level in registry.exact("low-back-audit", VERSION).levels]
    shares = ", ".join(
        f"{code} {levels[code]:,} ({100 * levels[code] / args.count:.1f}%)" for code in order
    )
    print(f"stored {args.count:,} submissions of {VERSION} in {seconds:.1f} s: {shares}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
