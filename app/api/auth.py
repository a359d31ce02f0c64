"""API-key authentication: ``Authorization: Bearer ba_...``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.services import api_keys

from .deps import ApiSession, SessionDep, run_db
from .errors import ApiError

# auto_error=False: we answer a missing key ourselves, with our error shape and a 401.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `backaudit api-key create`, sent as `Authorization: Bearer ba_…`.",
)


def unauthorized(detail: str) -> ApiError:
    return ApiError(
        status.HTTP_401_UNAUTHORIZED,
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="backaudit"'},
    )


async def require_api_client(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> api_keys.Caller:
    if credentials is None:
        raise unauthorized("An API key is needed: send 'Authorization: Bearer <key>'.")
    client = await _authenticate(session, credentials.credentials)
    if client is None:
        raise unauthorized("The API key is not valid (unknown, malformed or revoked).")
    return client


async def _authenticate(session: ApiSession, key: str) -> api_keys.Caller | None:
    """Authentication is the first statement of every API request that uses the database, so a
    pooled connection that the server has closed (a restart, a failover, an idle timeout) fails
    here. SQLAlchemy then discards it and every connection pooled before it; the lookup only
    reads, so it is safe to ask again, once, on a new connection. This replaces a pre-ping round
    trip on every request (app/db.py)."""
    try:
        return await run_db(session, api_keys.authenticate, key=key)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    await run_db(session, Session.rollback)
    return await run_db(session, api_keys.authenticate, key=key)


ApiClientDep = Annotated[api_keys.Caller, Depends(require_api_client)]
