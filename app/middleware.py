"""ASGI middleware: security headers on every response, and request logs without secrets.

Logs name the route template (``/r/{token}``), never the concrete path, so tokens in URLs and
anything a person typed never reach a log line.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("backaudit.request")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def security_headers(*, hsts: bool) -> list[tuple[bytes, bytes]]:
    """What every response carries: from SecurityHeaders, or from uvicorn under `serve`."""
    headers = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        # URLs carry secrets (result links, intake links): never send them to other sites.
        (b"referrer-policy", b"no-referrer"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
    return headers


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = security_headers(hsts=hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in existing]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            template = route_template(scope)
            log.info(
                "%s %s %s %.1fms",
                scope.get("method"),
                template,
                status["code"],
                (time.perf_counter() - started) * 1000,
            )


def route_template(scope: Scope) -> str:
    """The path with every path parameter replaced by its name: ``/intake/{token}``.

    (FastAPI's route object knows only the path inside its own router, without prefixes.)
    """
    if scope.get("route") is None:
        return "(unmatched)"
    params: dict[str, Any] = scope.get("path_params") or {}
    by_value = {str(value): name for name, value in params.items()}
    segments = str(scope.get("path", "")).split("/")
    return "/".join(f"{{{by_value[s]}}}" if s in by_value else s for s in segments)


class BodyLimit:
    """Refuses a request body over its limit with a 413, before anything parses it: the API's
    and the forms' limits apart (a page's answers are a few hundred bytes, a whole set of API
    answers a few kilobytes). The body is read here, at most ``limit`` bytes of it, and handed
    on as it came."""

    def __init__(self, app: ASGIApp, *, api_bytes: int, form_bytes: int) -> None:
        self.app = app
        self.api_bytes = api_bytes
        self.form_bytes = form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")
        limit = self.api_bytes if api else self.form_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, api, limit)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: the app hears it as it would have
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(send, api, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, api: bool, limit: int) -> None:
    if api:
        body = json.dumps(
            {
                "detail": f"The request body is larger than {limit} bytes.",
                "problems": [{"field": "body", "code": "too_large", "message": "is too large"}],
            }
        ).encode()
        kind = b"application/json"
    else:
        body = b"The form sent more than this site accepts."
        kind = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
