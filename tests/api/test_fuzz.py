"""Property-based fuzzing of the whole API from its OpenAPI document (schemathesis).

Every operation gets generated requests, valid and invalid, through the real ASGI app and
database, with a valid API key. No response may be a 5xx, and every response must match what
the document says (status codes, content types and bodies).
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from .conftest import make_key

pytestmark = [
    # schemathesis 3 uses jsonschema APIs that jsonschema now flags as deprecated; not our code.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    # Its ASGI transport leaves anyio streams for the garbage collector; not our code either.
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(autouse=True)
def _collect_leftover_streams() -> Iterator[None]:
    """schemathesis's ASGI client leaves anyio streams in reference cycles; collect them here,
    while this module's warning filters apply, not in some later test."""
    yield
    gc.collect()


@pytest.fixture
def api_schema(app: FastAPI) -> Any:
    return schemathesis.from_asgi(
        "/api/v1/openapi.json",
        app,
        data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
    )


@pytest.fixture
def auth_headers(db: Session) -> dict[str, str]:
    return make_key(db, "fuzzer").headers


# FastAPI writes OpenAPI 3.1, which schemathesis 3 supports behind this switch.
schemathesis.experimental.OPEN_API_3_1.enable()

with warnings.catch_warnings():
    # schemathesis 3.39 warns about its own default arguments here.
    warnings.simplefilter("ignore", DeprecationWarning)
    schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI failures are reproducible
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_api_fail_or_break_its_contract(
    case: Any, auth_headers: dict[str, str]
) -> None:
    case.call_and_validate(
        headers=auth_headers,
        checks=(
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ),
    )
