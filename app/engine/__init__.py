"""The questionnaire engine: pure Python, no web framework or database.

Load a questionnaire once (it is validated completely), then evaluate answers against it::

    from app.engine import load_questionnaire, assess, evaluate

    q = load_questionnaire("questionnaires/low-back-audit.yaml")
    result = assess(q, {"age": 40, ...})        # the result contract, or AnswerError
    state = evaluate(q, partial_answers)         # visibility, next page, problems

Conditions come compiled (``Expr``); ``Expr.tree`` is their parsed form (``Compare``, ``And``,
``Name``, ...), for code that needs a condition's shape rather than its value.
"""

from ._contract import (
    CheckinResult,
    ContributorScore,
    ExerciseStep,
    Plan,
    PlanBlock,
    PlanChange,
    QuestionnaireRef,
    Reason,
    Release,
    Result,
    SafetyNet,
    SafetyNetToday,
    TrendPoint,
    TrendValue,
    Triage,
)
from ._errors import (
    AnswerError,
    AnswerProblem,
    DefinitionError,
    DefinitionProblem,
    EngineError,
)
from ._evaluate import Evaluation, evaluate, triage_level, value_of
from ._expr import Expr
from ._help_lines import HELP_LINES
from ._load import (
    load_directory,
    load_questionnaire,
    load_translated,
    load_versions,
    validate_path,
    version_key,
)
from ._model import (
    TRIAGE_LEVEL,
    Contributor,
    ExerciseBlock,
    Level,
    Option,
    Page,
    Question,
    Questionnaire,
    Rule,
    Section,
    Step,
)
from ._nodes import (
    And,
    Arithmetic,
    Call,
    Codes,
    Compare,
    Constant,
    Name,
    Node,
    Not,
    Or,
    Sign,
    walk,
)
from ._plan import load_exercise_blocks
from ._progress import progress_plan, step_index
from ._result import RELEASED, assess, build_result
from ._texts import english_fingerprint, put_texts, text_catalogue
from ._translations import (
    BASE_LANGUAGE,
    PSEUDO_LANGUAGE,
    Pairing,
    Translation,
    placeholders,
    pseudo_text,
)
from ._warnings import rule_warnings

__all__ = [
    "BASE_LANGUAGE",
    "HELP_LINES",
    "PSEUDO_LANGUAGE",
    "RELEASED",
    "TRIAGE_LEVEL",
    "And",
    "AnswerError",
    "AnswerProblem",
    "Arithmetic",
    "Call",
    "CheckinResult",
    "Codes",
    "Compare",
    "Constant",
    "Contributor",
    "ContributorScore",
    "DefinitionError",
    "DefinitionProblem",
    "EngineError",
    "Evaluation",
    "ExerciseBlock",
    "ExerciseStep",
    "Expr",
    "Level",
    "Name",
    "Node",
    "Not",
    "Option",
    "Or",
    "Page",
    "Pairing",
    "Plan",
    "PlanBlock",
    "PlanChange",
    "Question",
    "Questionnaire",
    "QuestionnaireRef",
    "Reason",
    "Release",
    "Result",
    "Rule",
    "SafetyNet",
    "SafetyNetToday",
    "Section",
    "Sign",
    "Step",
    "Translation",
    "TrendPoint",
    "TrendValue",
    "Triage",
    "assess",
    "build_result",
    "english_fingerprint",
    "evaluate",
    "load_directory",
    "load_exercise_blocks",
    "load_questionnaire",
    "load_translated",
    "load_versions",
    "placeholders",
    "progress_plan",
    "pseudo_text",
    "put_texts",
    "rule_warnings",
    "step_index",
    "text_catalogue",
    "triage_level",
    "validate_path",
    "value_of",
    "version_key",
    "walk",
]
