"""The API's own OpenAPI document (/api/v1/openapi.json): the JSON API and /healthz only.

The patient and staff pages are HTML for people, not part of the contract with other apps, so
they are left out; FastAPI's default document (which would mix them in) is switched off.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.services.questionnaires import Registry

API_PATH: Final = "/api/v1"
_DESCRIPTION: Final = """\
The JSON API for other apps: read the questionnaire (also as FHIR R4), drive the interview one
page at a time, store assessments and read them back (also as FHIR R4).

**Keys.** Questionnaires and `next` need no key. Storing and reading assessments needs an API
key (`backaudit api-key create --name ...`), sent as `Authorization: Bearer ba_...`. A key
made for a clinic (`--clinic`) reads the clinic's submissions; it stores check-ins only with
the `checkins:write` scope (`--scope checkins:write`, or the staff API keys page), else a 403.

**Limits.** At most `CHECKINS_PER_DAY` (3) check-ins per assessment in 24 hours: then a 429
with `Retry-After`. The same answers again within `CHECKIN_DUPLICATE_MINUTES` (10) give the
check-in stored (200). An `Idempotency-Key` belongs to the API key that sent it.

**Errors.** Every 4xx has the same shape: `{"detail": "...", "problems": [...]}`; each problem
names a `question` (by id) or a `field` (body field or header), with a `code` and a `message`.
A body that is not JSON is a 400; a body sent without `Content-Type: application/json`, a 415;
a body of the wrong shape, or answers that cannot give a result, a 422.
"""


def api_openapi(app: FastAPI) -> dict[str, Any]:
    cached: dict[str, Any] | None = getattr(app.state, "api_openapi", None)
    if cached is not None:
        return cached
    document = get_openapi(
        title=f"{app.title} API",
        version=f"v1 ({app.version})",
        summary=app.summary,
        description=_DESCRIPTION,
        routes=app.routes,
        tags=[
            {"name": "questionnaires", "description": "The questionnaire definitions."},
            {"name": "interview", "description": "Asking the questions, one page at a time."},
            {"name": "assessments", "description": "Stored assessments (API key needed)."},
            {"name": "fhir", "description": "FHIR R4 exports."},
            {"name": "operations", "description": "For monitoring."},
        ],
    )
    document["paths"] = {
        path: item
        for path, item in document.get("paths", {}).items()
        if path.startswith(f"{API_PATH}/") or path == "/healthz"
    }
    _use_our_error_shape(document)
    _drop_unused_schemas(document)
    _name_the_definitions_values(document, app.state.registry)
    app.state.api_openapi = document
    return document


def _use_our_error_shape(document: dict[str, Any]) -> None:
    """Every 4xx, and the API's 503, is sent as application/json in the ErrorResponse shape
    (app/api/errors.py), whatever FastAPI assumed: its default 422 body, or the FHIR media type
    of a FHIR route. (/healthz answers its 503 in its own shape.)"""
    ours = {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("4") or (status == "503" and path.startswith(API_PATH)):
                    response["content"] = {"application/json": dict(ours)}
    schemas = document.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _drop_unused_schemas(document: dict[str, Any]) -> None:
    """Leave out the schemas that only the left-out pages use."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    used: set[str] = set()
    pending: list[Any] = [document["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in used and name in schemas:
                    used.add(name)
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in list(schemas):
        if name not in used:
            del schemas[name]


def _name_the_definitions_values(document: dict[str, Any], registry: Registry) -> None:
    """What the result contract leaves to the loaded definitions (a level code is a string to
    the engine's types), named for clients: the triage levels, most urgent first, and the
    range of a contributor's score (the result lists only those that score at least 1)."""
    schemas = document.get("components", {}).get("schemas", {})
    if "Triage" in schemas:
        level = schemas["Triage"]["properties"]["level"]
        level["enum"] = [lv.code for lv in registry.levels]
    if "ContributorScore" in schemas:
        score = schemas["ContributorScore"]["properties"]["score"]
        score["minimum"] = 1
        score["maximum"] = max(c.maximum for q in registry.all() for c in q.contributors)
