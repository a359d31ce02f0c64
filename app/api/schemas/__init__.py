"""Request and response bodies of the JSON API (their examples are in app/api/examples.py), a
module per part of the API: problems (every 4xx body), assessments, checkins, questionnaires and
interview (the questionnaire one page at a time).

The result contract is the engine's own types (app/engine/_contract.py): the engine builds the
object, the API sends it as it is, and the schemas hold it, so the document is derived from the
same types as the JSON. This package's own module configures those types for the document: a
package's __init__ runs before any of its modules, so every model that holds a result sees them
configured.
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import ConfigDict, Field, TypeAdapter, with_config
from pydantic.config import JsonDict

from app.engine import (
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
    Triage,
)

from ..examples import EXAMPLE_SELF_CARE_RESULT

# The engine types it (app/engine/_contract.py) and the API sends what the engine built, so the
# document is derived from those types: their attribute docstrings are the fields'
# descriptions. The level codes are the definitions' (app/api/openapi.py names them).


def _one_line(schema: JsonDict) -> None:
    """A docstring is wrapped at the source's width: one line in the document."""
    fields = schema.get("properties")
    for field in fields.values() if isinstance(fields, dict) else ():
        if isinstance(field, dict) and isinstance(field.get("description"), str):
            field["description"] = " ".join(str(field["description"]).split())


def _result(schema: JsonDict) -> None:
    schema["examples"] = [cast("JsonDict", EXAMPLE_SELF_CARE_RESULT)]  # a Result is JSON
    _one_line(schema)


def _checkin_result(schema: JsonDict) -> None:
    """Its fields from the result contract keep their descriptions (pydantic reads only the
    class's own docstrings)."""
    inherited = TypeAdapter(Result).json_schema()["properties"]
    fields = schema.get("properties")
    for name, field in fields.items() if isinstance(fields, dict) else ():
        said = inherited.get(name, {}).get("description")
        if isinstance(field, dict) and said is not None:
            field.setdefault("description", said)
    _one_line(schema)


for _part in (
    QuestionnaireRef,
    Reason,
    Triage,
    ContributorScore,
    ExerciseStep,
    PlanBlock,
    Plan,
    SafetyNetToday,
    SafetyNet,
    Release,
    PlanChange,
):
    with_config(ConfigDict(use_attribute_docstrings=True, json_schema_extra=_one_line))(_part)
with_config(ConfigDict(use_attribute_docstrings=True, json_schema_extra=_result))(Result)
with_config(ConfigDict(use_attribute_docstrings=True, json_schema_extra=_checkin_result))(
    CheckinResult
)


LANGUAGE_DESCRIPTION = (
    "The language of the texts for the person (BCP 47: `en`, `pl`): the request's"
    " `Accept-Language` where the questionnaire (that version) has a translation into it that is"
    " offered, else `en`, the base language. Codes, ids and staff texts do not change with it."
    " Also in the `Content-Language` header."
)


def language_field() -> Any:
    return Field(default="en", description=LANGUAGE_DESCRIPTION)
