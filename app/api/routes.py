"""JSON API v1 for other apps (mounted at /api/v1), one module per resource.

Questionnaires and the page-by-page interview (``next``) are open to anyone; storing and reading
assessments needs an API key. Routes are thin: the engine and the services do the work, the
route decides the status code, and the request's session commits (app/deps.py).

Hot paths answer with a ready-made JSON ``Response``: the result is the engine's own object, so
running it through the response model again would only cost time. The models still document
every response in the OpenAPI document, and the tests check real responses against them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from . import assessments, checkins, fhir_in, questionnaires
from .auth import limit_client_address
from .errors import ApiRoute
from .openapi import api_openapi
from .responses import json_response

router = APIRouter(route_class=ApiRoute, dependencies=[Depends(limit_client_address)])
router.include_router(questionnaires.router)
router.include_router(assessments.router)
router.include_router(checkins.router)
router.include_router(fhir_in.router)


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> Response:
    return json_response(api_openapi(request.app))
