"""API-key authentication: ``Authorization: Bearer ba_...``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.deps import DbDep, client_ip, settings_of, take_rate
from app.errors import AppError
from app.services import api_keys, rate_limits

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


def too_many_requests(wait: timedelta, per: str) -> AppError:
    return AppError(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"Too many requests {per}: wait {rate_limits.retry_after(wait)} seconds"
        " (Retry-After) before the next.",
        problems=[{"field": "rate", "code": "rate_limited", "message": "too many requests"}],
        headers={"Retry-After": rate_limits.retry_after(wait)},
    )


async def limit_client_address(request: Request, db: DbDep) -> None:
    """Every API request, with a key or without, counts against its client's address."""
    limit = rate_limits.Limit(
        settings_of(request).limits.api_address_per_minute, timedelta(minutes=1)
    )
    bucket = rate_limits.api_address_bucket(client_ip(request))
    wait = await take_rate(request, db, {bucket: limit})
    if wait is not None:
        raise too_many_requests(wait, "from this address")


async def require_api_client(
    request: Request,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> api_keys.Caller:
    if credentials is None:
        raise unauthorized("An API key is needed: send 'Authorization: Bearer <key>'.")
    client = await db.run(api_keys.authenticate, key=credentials.credentials)
    if client is None:
        raise unauthorized("The API key is not valid (unknown, malformed or revoked).")
    limit = rate_limits.Limit(settings_of(request).limits.api_key_per_minute, timedelta(minutes=1))
    wait = await take_rate(request, db, {rate_limits.api_key_bucket(client.id): limit})
    if wait is not None:
        raise too_many_requests(wait, "with this API key")
    return client


ApiClientDep = Annotated[api_keys.Caller, Depends(require_api_client)]
