"""The questionnaire engine: pure Python, no web framework or database.

Load a questionnaire once (it is validated completely), then evaluate answers against it::

    from app.engine import load_questionnaire, assess, evaluate

    q = load_questionnaire("questionnaires/low-back-audit.yaml")
    result = assess(q, {"age": 40, ...})        # the result contract, or AnswerError
    state = evaluate(q, partial_answers)         # visibility, next page, problems
"""

from ._errors import (
    AnswerError,
    AnswerProblem,
    DefinitionError,
    DefinitionProblem,
    EngineError,
)
from ._evaluate import Evaluation, evaluate, triage_level
from ._load import load_directory, load_exercise_blocks, load_questionnaire, validate_path
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
from ._result import assess, build_result

__all__ = [
    "TRIAGE_LEVEL",
    "AnswerError",
    "AnswerProblem",
    "Contributor",
    "DefinitionError",
    "DefinitionProblem",
    "EngineError",
    "Evaluation",
    "ExerciseBlock",
    "Level",
    "Option",
    "Page",
    "Question",
    "Questionnaire",
    "Rule",
    "Section",
    "Step",
    "assess",
    "build_result",
    "evaluate",
    "load_directory",
    "load_exercise_blocks",
    "load_questionnaire",
    "triage_level",
    "validate_path",
]
