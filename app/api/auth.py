"""API-key authentication: ``Authorization: Bearer ba_...``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.deps import DbDep
from app.errors import AppError
from app.services import api_keys

# auto_error=False: we answer a missing key ourselves, with our error shape and a 401.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `backaudit api-key create`, sent as `Authorization: Bearer ba_…`.",
)


def unauthorized(detail: str) -> AppError:
    return AppError(
        status.HTTP_401_UNAUTHORIZED,
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="backaudit"'},
    )


async def require_api_client(
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> api_keys.Caller:
    if credentials is None:
        raise unauthorized("An API key is needed: send 'Authorization: Bearer <key>'.")
    client = await db.run(api_keys.authenticate, key=credentials.credentials)
    if client is None:
        raise unauthorized("The API key is not valid (unknown, malformed or revoked).")
    return client


ApiClientDep = Annotated[api_keys.Caller, Depends(require_api_client)]
