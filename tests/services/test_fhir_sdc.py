"""The exported Questionnaire's branching, run by a FHIRPath engine, against the engine's own.

Differential testing: for seeded random answer sets, a FHIR form filler's view (every item's
``enableWhen`` or SDC ``enableWhenExpression``, evaluated with ``fhirpathpy`` on the
QuestionnaireResponse of the answers the engine keeps) shows exactly the questions that
backaudit asks: ``evaluate``'s visible questions, up to the page whose answers stop the
interview. A renderer evaluates each item on the response as filled so far; every expression
reads only earlier items, so evaluating on the finished response is the same.

fhirpathpy takes about 0.7 ms per step through a response, so each expression is evaluated once
per distinct value of what it can read (the answer at its own link id, or the variables it
names): the cache cannot change a result, and it keeps 2,000 answer sets per questionnaire
to a few seconds.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import fhirpathpy
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhirpathpy.models import models

from app.engine import Constant, Questionnaire, evaluate, triage_level, walk
from app.services import fhir
from app.services.questionnaires import Registry
from tests.support.sdc import asked_and_response, response_of

ANSWER_SETS = 2_000
_R4 = models["r4"]
_VARIABLE = re.compile(r"%([A-Za-z_]\w*)")
_LINK_ID = re.compile(r"linkId='([^']*)'")


def _names_in(expression: str) -> list[str]:
    """The variables an expression names, or for an answer's path its link ids."""
    if "%resource" in expression:
        return _LINK_ID.findall(expression)
    return sorted(set(_VARIABLE.findall(expression)))


class Answers(dict[str, list[dict[str, Any]]]):
    """A response's answers by link id, with the response."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__(
            (item["linkId"], item.get("answer", [])) for item in items_of(response.get("item", []))
        )
        self.response = response


def items_of(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from items_of(item.get("item", []))


def extension(item: dict[str, Any], url: str) -> dict[str, Any] | None:
    return next((e for e in item.get("extension", []) if e["url"] == url), None)


class FormFiller:
    """What an SDC form filler does with our Questionnaire: works out the root variables and
    each item's enableWhen or enableWhenExpression on a response."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.resource = resource
        self.variables = [
            (e["valueExpression"]["name"], e["valueExpression"]["expression"])
            for e in resource["extension"]
            if e["url"] == fhir.VARIABLE_URL
        ]
        self._compiled: dict[str, Callable[..., list[Any]]] = {}
        self._cache: dict[tuple[str, str], list[Any]] = {}
        self._names: dict[str, list[str]] = {}
        self.evaluations = 0

    def run(self, expression: str, env: dict[str, Any], answers: Answers) -> list[Any]:
        """An expression's value on a response, with the variables ``env``."""
        names = self._names.get(expression)
        if names is None:
            names = self._names[expression] = _names_in(expression)
        if "%resource" in expression:
            # An answer's path: it reads the item at the link id it ends with (ids are unique).
            key = repr(answers.get(names[-1]))
        else:
            key = repr([env[name] for name in names])
        cached = self._cache.get((expression, key))
        if cached is not None:
            return cached
        compiled = self._compiled.get(expression)
        if compiled is None:
            compiled = self._compiled[expression] = fhirpathpy.compile(expression, _R4)
        self.evaluations += 1
        variables = {name: env[name] for name in names if name in env}
        result: list[Any] = compiled(answers.response, {**variables, "resource": answers.response})
        self._cache[(expression, key)] = result
        return result

    def variables_of(self, response: dict[str, Any]) -> tuple[dict[str, Any], Answers]:
        """The root variables' values on a response, in order."""
        env: dict[str, Any] = {}
        answers = Answers(response)
        for name, expression in self.variables:
            env[name] = self.run(expression, env, answers)
        return env, answers

    def enabled_questions(self, response: dict[str, Any]) -> set[str]:
        env, answers = self.variables_of(response)
        enabled: set[str] = set()
        self._walk(self.resource["item"], env, answers, enabled)
        return enabled

    def _walk(
        self,
        items: list[dict[str, Any]],
        env: dict[str, Any],
        answers: Answers,
        enabled: set[str],
    ) -> None:
        for item in items:
            expression = extension(item, fhir.ENABLE_WHEN_EXPRESSION_URL)
            if expression is not None:
                assert "enableWhen" not in item  # SDC: never both
                result = self.run(expression["valueExpression"]["expression"], env, answers)
                assert result in ([True], [False]), (item["linkId"], result)
                shown = result == [True]
            elif "enableWhen" in item:
                tests = [_enable_when(c, answers) for c in item["enableWhen"]]
                shown = any(tests) if item.get("enableBehavior") == "any" else all(tests)
            else:
                shown = True
            if shown:
                enabled.add(item["linkId"])
                self._walk(item.get("item", []), env, answers, enabled)


_fillers: dict[tuple[str, str], FormFiller] = {}


def form_filler(q: Questionnaire) -> FormFiller:
    """One form filler per questionnaire for the module: its cache serves every test."""
    key = (q.id, q.version)
    if key not in _fillers:
        resource = fhir.questionnaire_resource(q, base_url="http://127.0.0.1:8000")
        _fillers[key] = FormFiller(resource)
    return _fillers[key]


def _enable_when(condition: dict[str, Any], answers: dict[str, list[dict[str, Any]]]) -> bool:
    """R4 enableWhen: a question with no answer meets only ``exists = false``."""
    given = answers.get(condition["question"], [])
    expected_key = next(k for k in condition if k.startswith("answer"))
    expected = condition[expected_key]
    if condition["operator"] == "exists":
        return bool(given) is expected
    values = [a[f"value{expected_key.removeprefix('answer')}"] for a in given]
    if expected_key == "answerCoding":
        values, expected = [v["code"] for v in values], expected["code"]
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return any(compare[condition["operator"]](v, expected) for v in values)


# -- answer sets ---------------------------------------------------------------------------


def numbers_in_conditions(q: Questionnaire) -> list[float]:
    """The numbers the conditions compare with: the edges worth hitting."""
    exprs = [c for p in q.pages for c in p.conditions] + [r.when for r in q.rules]
    exprs += [question.when for question in q.questions if question.when is not None]
    return sorted(
        {
            node.value
            for expr in exprs
            for node in walk(expr.tree)
            if isinstance(node, Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        }
    )


def random_value(
    rng: random.Random,
    kind: str,
    codes: list[str],
    low: float,
    high: float,
    edges: list[float],
    yes: float,
) -> Any:
    if kind == "boolean":
        return rng.random() < yes
    if kind in ("integer", "number"):
        near = [e + d for e in edges for d in (-1, 0, 1) if low <= e + d <= high]
        value = rng.choice(near) if near and rng.random() < 0.5 else rng.uniform(low, high)
        return round(value) if kind == "integer" else round(value * 2) / 2
    if kind == "choice":  # the first option is mostly the plain one ("no", "none")
        return codes[0] if rng.random() > max(2 * yes, 0.3) else rng.choice(codes)
    return rng.sample(codes, rng.randint(1, min(3, len(codes))))


def answer_sets(
    q: Questionnaire, count: int, seed: int
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Seeded answer sets with a spread of paths: few or many yes answers (so emergencies,
    urgent, see-a-doctor and self-care all come up), some questions left out, and context
    values given or not."""
    rng = random.Random(seed)
    edges = numbers_in_conditions(q)
    for _ in range(count):
        yes = rng.choice((0.0, 0.02, 0.05, 0.1, 0.3, 0.6))
        answered = rng.choice((1.0, 1.0, 0.9, 0.6))
        answers: dict[str, Any] = {}
        for question in q.questions:
            if rng.random() > answered:
                continue
            codes = [o.code for o in question.options]
            if question.type == "multi_choice" and rng.random() < 0.3:
                exclusive = [o.code for o in question.options if o.exclusive]
                answers[question.id] = exclusive[:1] or codes[:1]
                continue
            if question.type == "multi_choice":
                codes = [o.code for o in question.options if not o.exclusive]
            low = question.minimum if question.minimum is not None else 0
            high = question.maximum if question.maximum is not None else 100
            # Warning signs (the first section) are yes at the set's rate, the rest at random.
            rate = yes if question.section_id == q.sections[0].id else 0.5
            answers[question.id] = random_value(rng, question.type, codes, low, high, edges, rate)
        context: dict[str, Any] = {}
        for value in q.context.values():
            if rng.random() < 0.2:
                continue
            codes = sorted(value.options)
            context[value.id] = random_value(rng, value.type, codes, 0, 90, edges, 0.5)
        yield answers, context


@pytest.mark.parametrize("questionnaire_id", ["low-back-audit", "low-back-checkin"])
def test_a_fhir_form_filler_asks_what_the_engine_asks(
    registry: Registry, questionnaire_id: str
) -> None:
    q = registry.get(questionnaire_id)
    filler = form_filler(q)
    question_ids = set(q.question_by_id)
    disagreements = []
    paths: set[frozenset[str]] = set()
    levels: set[str] = set()
    for answers, context in answer_sets(q, ANSWER_SETS, seed=25):
        expected, response = asked_and_response(q, answers, context)
        evaluation = evaluate(q, answers, context)
        shown = filler.enabled_questions(response) & question_ids
        paths.add(frozenset(expected))
        levels.add(triage_level(q, evaluation.context))
        if shown != expected:
            disagreements.append(
                (answers, context, sorted(shown - expected), sorted(expected - shown))
            )
    assert disagreements[:3] == []
    # The answer sets took many paths, to every level (an emergency stop among them).
    assert len(paths) > 20
    assert levels == {level.code for level in q.levels}


# -- each construct, on its own ------------------------------------------------------------


CONSTRUCTS = (
    "fever",
    "not fever",
    "not (fever or chest_pain)",
    'leg_pain != "none"',
    'leg_pain in ["above_knee", "below_knee"]',
    'leg_pain not in ["none"]',
    '"none" in spine_diagnosis',
    '"none" not in spine_diagnosis',
    "answered(spine_diagnosis) and not answered(pain_trend)",
    "count_chosen(inflammatory_features) >= 2",
    "count_true(fever, chest_pain, age < 30) == 1",
    "18.5 <= bmi < 40",
    "-age < -40",
    "age ** 2 > 1600 or age + 1 == 41",
    "weight_kg / (age - 45) > 1",  # no value at 45: dividing by zero
    "sitting_hours * 2 >= 9.5",
    "stable == recent_pain",
    'triage_level in ["urgent", "see_doctor"]',
    'triage_level != "self_care" and fever',
)


def test_each_construct_means_in_fhirpath_what_it_means_in_the_engine(registry: Registry) -> None:
    q = registry.default
    paths = fhir.FhirPath(q)
    conditions = [(source, q.compile_condition(source)) for source in CONSTRUCTS]
    expressions = [paths.condition(condition) for _, condition in conditions]
    filler = form_filler(q)
    outcomes: dict[str, set[bool]] = {source: set() for source in CONSTRUCTS}
    for answers, context in answer_sets(q, 300, seed=7):
        evaluation = evaluate(q, answers, context)
        env, given = filler.variables_of(response_of(q, evaluation.answers, context))
        for (source, condition), expression in zip(conditions, expressions, strict=True):
            result = filler.run(expression, env, given)
            assert result == [condition.holds(evaluation.context)], (source, answers, context)
            outcomes[source] |= set(result)
    assert {source: {True, False} for source in CONSTRUCTS} == outcomes


def test_every_version_of_every_questionnaire_exports_as_a_valid_r4_questionnaire(
    registry: Registry,
) -> None:
    for q in registry.all():
        for version in registry.versions(q.id):
            resource = fhir.questionnaire_resource(version, base_url="http://127.0.0.1:8000")
            FhirQuestionnaire.model_validate(resource)


def test_a_construct_the_translator_does_not_know_is_refused(registry: Registry) -> None:
    @dataclass(frozen=True)
    class Unknown:
        pass

    with pytest.raises(fhir.FhirPathError, match="no FHIRPath for Unknown"):
        fhir.FhirPath(registry.default).condition(Unknown())  # type: ignore[arg-type]
