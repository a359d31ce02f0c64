"""Taps through the red-flag questions, for the page layouts we weighed (issue 26).

A tap is one answer chosen (a radio, or the age typed) or one Continue. Driven on the real app
with the TestClient, page by page as a browser sends them, for the audit's safety screen and the
check-in's warning signs:

- taps to the emergency page for each sign that alone means an emergency, counted from the
  first red-flag question (the audit's age page before it costs 2 more): "best" answers only
  that sign on its page (one yes ends the form, whatever else the page holds), "worst" answers
  every question above it on the page first (reading top to bottom); earlier pages all "no";
- taps for a person with no warning sign, through every safety page;
- the longest error summary: each safety page sent with nothing answered.

Layouts: "before" (the pages of audit 2.1.0 and check-in 1.1.0 as issue 26 found them), "one
a page" (NHS 111 online's one question per page), "groups of 4" (both in today's order) and
"now" (the definitions in questionnaires/: every sign that alone means an emergency on the first
warning-sign page, the others at most 4 to a page). A checkbox list with "None of these" cannot
be driven without new question ids (a public contract): its numbers are worked out and printed
beside them (2 taps to any sign on its list, 2 a list with none, an error summary of 1).

    .venv/bin/python benchmarks/redflags.py
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from throwaway_app import throwaway_app  # noqa: E402

from app.api.examples import EXAMPLE_ANSWERS  # noqa: E402
from app.engine import Questionnaire  # noqa: E402

AUDIT = "low-back-audit"
CHECKIN = "low-back-checkin"
# The answer that alone means an emergency, for each such sign of the safety screens.
EMERGENCY_ANSWERS: dict[str, Any] = {
    "saddle_numbness": True,
    "bladder_change": True,
    "bowel_change": True,
    "sexual_function_change": True,
    "both_legs": True,
    "walking_difficulty": True,
    "chest_pain": True,
    "serious_accident": "last_6_weeks",
}
NO_SIGN: dict[str, Any] = {"age": 42, "serious_accident": "no"}  # and every yes/no "no"
EMERGENCY_TITLE = "Get medical help now"

# The safety pages as issue 26 found them (the audit's age page is left as it is).
BEFORE: dict[str, list[tuple[str, list[str]]]] = {
    AUDIT: [
        ("emergency_nerves", ["saddle_numbness", "bladder_change", "bowel_change",
                              "sexual_function_change"]),
        ("emergency_other", ["both_legs", "chest_pain", "serious_accident"]),
        ("legs_and_walking", ["leg_weakness", "walking_difficulty"]),
        ("warning_signs", ["fever", "weight_loss", "night_pain", "pain_on_straining",
                           "thoracic_pain", "back_shape_change", "abdominal_pain"]),
        ("health_history", ["cancer_history", "osteoporosis_or_steroids", "infection_risk",
                            "pregnant"]),
    ],
    CHECKIN: [
        ("checkin_safety", ["saddle_numbness", "bladder_change", "bowel_change",
                            "sexual_function_change", "both_legs", "chest_pain", "leg_weakness",
                            "walking_difficulty", "fever", "weight_loss", "night_pain",
                            "pain_on_straining", "thoracic_pain", "back_shape_change",
                            "new_leg_symptoms", "new_fall_or_injury", "pregnant"]),
    ],
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Walk:
    taps: int  # from the first red-flag question
    emergency: bool  # ended on the emergency page
    longest_error_summary: int  # of the pages sent empty on the way (0: none sent)


def _no(question_id: str) -> Any:
    return NO_SIGN.get(question_id, False)


def _field(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


INPUT = re.compile(r"<input\b[^>]*>")
NAME = re.compile(r'\bname="([^"]+)"')
KIND = re.compile(r'\btype="([^"]+)"')
VALUE = re.compile(r'\bvalue="([^"]*)"')
ERROR_SUMMARY = re.compile(r'<ul class="error-summary__list">(.*?)</ul>', re.S)


def asked_on(html: str) -> list[str]:
    """The questions a page asks, in order (the names of its radios and number fields)."""
    names: list[str] = []
    for tag in INPUT.findall(html):
        kind, name = KIND.search(tag), NAME.search(tag)
        asks = kind and kind[1] in ("radio", "number", "text", "checkbox")
        if asks and name and name[1] not in names:
            names.append(name[1])
    return names


def hidden_of(html: str) -> list[tuple[str, str]]:
    found = []
    for tag in INPUT.findall(html):
        kind, name, value = KIND.search(tag), NAME.search(tag), VALUE.search(tag)
        if kind and kind[1] == "hidden" and name and value:
            found.append((name[1], value[1]))
    return found


def error_summary_length(html: str) -> int:
    found = ERROR_SUMMARY.search(html)
    return found[1].count("<li>") if found else 0


def choose(asked: Sequence[str], flag: str | None, *, worst: bool) -> dict[str, Any]:
    """The answers a person gives on a page: the sign (and, reading top to bottom, a "no" to
    each question above it), or a "no" to every question when the sign is not on it."""
    if flag is None or flag not in asked:
        return {x: _no(x) for x in asked}
    above = asked[: asked.index(flag)] if worst else []
    return {**{x: _no(x) for x in above}, flag: EMERGENCY_ANSWERS[flag]}


def _send(client: TestClient, url: str, html: str, answers: Mapping[str, Any]) -> Any:
    """Send a page as a browser does: its hidden fields and the answers chosen on it."""
    data = hidden_of(html)
    for key, value in answers.items():
        data += [(key, _field(x)) for x in (value if isinstance(value, list) else [value])]
    return client.post(
        url,
        content=urlencode(data),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def _ended_in_emergency(client: TestClient, response: Any) -> bool:
    if response.status_code != 303:
        return False
    return EMERGENCY_TITLE in client.get(response.headers["location"]).text


def walk_audit(
    client: TestClient,
    q: Questionnaire,
    flag: str | None = None,
    *,
    worst: bool = False,
    errors: bool = False,
) -> Walk:
    """The audit from its first page (a new person: no draft) to the end of the safety screen,
    or to the emergency page. The age page is answered but not counted."""
    client.cookies.clear()
    safety = {p.id for p in q.sections[0].pages}
    first = q.sections[0].pages[0]
    location, taps, longest = f"/questions/{first.id}", 0, 0
    for _ in range(len(q.pages) + 2):
        page_id = location.removeprefix("/questions/").split("?")[0]
        if not location.startswith("/questions/") or page_id not in safety:
            return Walk(taps, False, longest)
        html = client.get(location).text
        if errors:
            sent = _send(client, location, html, {})
            assert sent.status_code in (400, 422), (location, sent.status_code)
            longest = max(longest, error_summary_length(sent.text))
            html = sent.text
        answers = choose(asked_on(html), flag, worst=worst)
        response = _send(client, location, html, answers)
        if page_id != first.id:
            taps += len(answers) + 1
        if _ended_in_emergency(client, response):
            return Walk(taps, True, longest)
        assert response.status_code == 303, (location, response.status_code)
        location = response.headers["location"]
    raise AssertionError("the safety screen did not end")


def self_care_result(client: TestClient, q: Questionnaire) -> str:
    """A self-care result made through the form (the check-in is at its private link)."""
    client.cookies.clear()
    location = f"/questions/{q.pages[0].id}"
    for _ in range(len(q.pages) + 2):
        if location.startswith("/result/"):
            return location
        if location == "/check":
            html = client.get(location).text
            location = _send(client, location, html, {}).headers["location"]
            continue
        html = client.get(location).text
        answers = {k: v for k, v in EXAMPLE_ANSWERS.items() if k in asked_on(html)}
        location = _send(client, location, html, answers).headers["location"]
    raise AssertionError("the interview did not end")


def walk_checkin(
    client: TestClient,
    q: Questionnaire,
    result: str,
    flag: str | None = None,
    *,
    worst: bool = False,
    errors: bool = False,
) -> Walk:
    """The check-in's warning-sign pages, from its first page, to the emergency page or past
    the warning signs."""
    safety = {x.id for p in q.sections[0].pages for x in p.questions}
    url = f"{result}/checkin"
    html, taps, longest = client.get(url).text, 0, 0
    for _ in range(len(q.pages) + 2):
        asked = asked_on(html)
        if not asked or not set(asked) <= safety:
            return Walk(taps, False, longest)
        if errors:
            sent = _send(client, url, html, {})
            assert sent.status_code in (400, 422), sent.status_code
            longest = max(longest, error_summary_length(sent.text))
            html = sent.text
        answers = choose(asked, flag, worst=worst)
        response = _send(client, url, html, answers)
        taps += len(answers) + 1
        if _ended_in_emergency(client, response):
            return Walk(taps, True, longest)
        assert response.status_code == 200, response.status_code
        html = response.text
    raise AssertionError("the check-in did not end")


# -- The layouts weighed ----------------------------------------------------------------------


def _relayout(
    definition: dict[str, Any], pages: list[tuple[str, list[str]]], keep: int
) -> dict[str, Any]:
    """The definition with its safety pages after the first ``keep`` replaced by ``pages``."""
    section = definition["sections"][0]
    questions = {x["id"]: x for page in section["pages"] for x in page["questions"]}
    section["pages"] = section["pages"][:keep] + [
        {"id": page_id, "title": page_id.replace("_", " ").capitalize(),
         "questions": [questions[x] for x in ids]}
        for page_id, ids in pages
    ]  # fmt: skip
    return definition


def one_a_page(definition: dict[str, Any], keep: int) -> list[tuple[str, list[str]]]:
    pages = definition["sections"][0]["pages"][keep:]
    return [(f"{x['id']}_page", [x["id"]]) for page in pages for x in page["questions"]]


def groups_of_4(definition: dict[str, Any], keep: int) -> list[tuple[str, list[str]]]:
    pages = definition["sections"][0]["pages"][keep:]
    ids = [x["id"] for page in pages for x in page["questions"]]
    return [(f"group_{n // 4 + 1}", ids[n : n + 4]) for n in range(0, len(ids), 4)]


LAYOUTS = {"one a page": one_a_page, "groups of 4": groups_of_4}


def write_layout(folder: Path, layout: str) -> None:
    """The questionnaires folder with the safety pages of ``layout``."""
    for name, keep in ((AUDIT, 1), (CHECKIN, 0)):
        path = folder / f"{name}.yaml"
        definition = yaml.safe_load(path.read_text(encoding="utf-8"))
        if layout == "now":
            continue
        pages = BEFORE[name] if layout == "before" else LAYOUTS[layout](definition, keep)
        path.write_text(yaml.safe_dump(_relayout(definition, pages, keep), sort_keys=False))
        # Taps are counted in English: a translation names today's pages, which another
        # layout does not have (and the app would refuse to start on it).
        for translation in folder.glob(f"{name}.*.yaml"):
            translation.unlink()


@contextmanager
def app_with(layout: str) -> Iterator[tuple[TestClient, Questionnaire, Questionnaire]]:
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(ROOT / "questionnaires", Path(folder) / "questionnaires")
        write_layout(Path(folder) / "questionnaires", layout)
        app = throwaway_app(Path(folder), questionnaires_dir=Path(folder) / "questionnaires")
        with TestClient(app) as client:
            registry = app.state.registry
            yield client, registry.get(AUDIT), registry.get(CHECKIN)


@dataclass(frozen=True, slots=True)
class Measured:
    to_emergency: dict[str, tuple[int, int]]  # sign: (best, worst)
    no_sign: int
    longest_error_summary: int


def walk(
    client: TestClient,
    q: Questionnaire,
    result: str,
    flag: str | None,
    *,
    worst: bool = False,
    errors: bool = False,
) -> Walk:
    """The audit's or the check-in's (at ``result``) safety pages, as ``walk_audit`` says."""
    if q.follows is None:
        return walk_audit(client, q, flag, worst=worst, errors=errors)
    return walk_checkin(client, q, result, flag, worst=worst, errors=errors)


def measure(
    client: TestClient, audit: Questionnaire, checkin: Questionnaire
) -> dict[str, Measured]:
    found: dict[str, Measured] = {}
    result = self_care_result(client, audit)
    for q in (audit, checkin):
        asked = {x.id for p in q.sections[0].pages for x in p.questions}
        taps = {}
        for flag in (f for f in EMERGENCY_ANSWERS if f in asked):
            best = walk(client, q, result, flag)
            worst = walk(client, q, result, flag, worst=True)
            assert best.emergency, flag
            assert worst.emergency, flag
            taps[flag] = (best.taps, worst.taps)
        clear = walk(client, q, result, None, errors=True)
        assert not clear.emergency
        no_sign = walk(client, q, result, None).taps
        found[q.id] = Measured(taps, no_sign, clear.longest_error_summary)
    return found


def main() -> int:
    layouts = ("before", "one a page", "groups of 4", "now")
    results = {}
    for layout in layouts:
        with app_with(layout) as (client, audit, checkin):
            results[layout] = measure(client, audit, checkin)
    for name in (AUDIT, CHECKIN):
        print(f"\n{name}: taps from the first red-flag question (best / worst)\n")
        print("| | " + " | ".join(layouts) + " | checkbox list (worked out) |")
        print("|---" * (len(layouts) + 2) + "|")
        signs = results["now"][name].to_emergency
        for flag in signs:
            cells = [f"{results[x][name].to_emergency[flag][0]} / "
                     f"{results[x][name].to_emergency[flag][1]}" for x in layouts]  # fmt: skip
            print(f"| emergency: `{flag}` | " + " | ".join(cells) + " | 2 / 2 |")
        cells = [str(results[x][name].no_sign) for x in layouts]
        print("| no warning sign | " + " | ".join(cells) + " | 2 a list |")
        cells = [str(results[x][name].longest_error_summary) for x in layouts]
        print("| longest error summary | " + " | ".join(cells) + " | 1 |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
