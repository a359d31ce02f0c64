"""ASGI middleware: security headers on every response, request logs without secrets, body
limits, and gzip for the site's text.

Logs name the route template (``/r/{token}``), never the concrete path, so tokens in URLs and
anything a person typed never reach a log line.
"""

from __future__ import annotations

import json
import logging
import re
import time
import zlib
from typing import Any, Final

from starlette.datastructures import Headers, MutableHeaders
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


# A Host header as RFC 9110 has it: a name or an IPv4 address, or an IPv6 one in brackets, and
# an optional port. Nothing else: "127.0.0.1:1@evil" is not a host that happens to start well.
_HOST = re.compile(r"(?P<name>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.?|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")


def host_allowed(header: str, allowed: list[str]) -> bool:
    """Whether a Host header names one of the ``allowed`` hosts (``*.domain``: its subdomains;
    ``*``: any well-formed host), comparing the whole parsed name."""
    parsed = _HOST.fullmatch(header.lower())
    if parsed is None:
        return False
    name = parsed["name"].rstrip(".")
    return any(
        pattern == "*" or name == pattern or (pattern[:2] == "*." and name.endswith(pattern[1:]))
        for pattern in allowed
    )


class RequestTarget:
    """Refuses, before anything else sees it, a request whose Host header is not exactly an
    allowed host (a 400: what the app builds from it, a redirect's address, must never name
    another site), and one whose path holds control characters (a 404: ``/static/%00``; file
    and database calls fail on a NUL byte).

    ``proxies_trusted`` False (FORWARDED_ALLOW_IPS unset): the first request that comes with
    ``X-Forwarded-For`` is logged as a warning, once: behind a proxy every client then has the
    proxy's address, and shares its sign-in throttle and rate limits."""

    def __init__(
        self, app: ASGIApp, *, allowed_hosts: list[str], proxies_trusted: bool = True
    ) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.proxy_warning_due = not proxies_trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.proxy_warning_due and "x-forwarded-for" in headers:
            self.proxy_warning_due = False
            logging.getLogger("backaudit").warning(
                "requests come with X-Forwarded-For, but FORWARDED_ALLOW_IPS is not set: every"
                " client counts as the proxy's address for the sign-in throttle and the rate"
                " limits. Set FORWARDED_ALLOW_IPS to the proxy's address (README, Configuration)."
            )
        if not host_allowed(headers.get("host", ""), self.allowed_hosts):
            await _bad_request(send, b"Invalid host header")
            return
        if any(ord(c) < 32 or ord(c) == 127 for c in scope["path"]):
            # No page or resource has such a path: a 404, as the API documents for its ids
            # (in its own JSON), not the 500 a NUL byte gave in file and database calls.
            await _not_found(send, api=scope["path"].startswith("/api/"))
            return
        await self.app(scope, receive, send)


async def _bad_request(send: Send, body: bytes) -> None:
    await _plain(send, 400, body, b"text/plain; charset=utf-8")


async def _not_found(send: Send, *, api: bool) -> None:
    if api:
        body = b'{"detail":"Not Found","problems":[]}'
        await _plain(send, 404, body, b"application/json")
    else:
        await _plain(send, 404, b"Not found", b"text/plain; charset=utf-8")


async def _plain(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


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


# The largest request bodies the API and the forms accept: sized to the questionnaire (a page's
# answers are a few hundred bytes, a whole set of API answers a few kilobytes), not to a
# deployment, so constants; a reverse proxy in front may still set a lower limit of its own.
API_BODY_LIMIT: Final = 64 * 1024
FORM_BODY_LIMIT: Final = 32 * 1024


class BodyLimit:
    """Refuses a request body over its limit with a 413, before anything parses it: the API's
    and the forms' limits apart. The body is read here, at most ``limit`` bytes of it, and
    handed on as it came."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")
        limit = API_BODY_LIMIT if api else FORM_BODY_LIMIT
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


# What is worth compressing: text. Images other than SVG, PDFs and zstd frames already are.
COMPRESSIBLE: Final = (
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "image/svg+xml",
)


def accepts_gzip(accept_encoding: str) -> bool:
    for offer in accept_encoding.split(","):
        coding, _, params = offer.partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            quality = params.strip().lower().removeprefix("q=").strip() or "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


class Compress:
    """gzip for pages, stylesheets, scripts and SVG pictures, when the browser accepts it.

    Not for a page another site made the browser ask for (``Sec-Fetch-Site: cross-site``): a
    compressed page holding a secret (a form's CSRF token) next to something the asker chose
    can give the secret away through its size (the BREACH attack). People arriving from
    another site get that one page uncompressed; every page after it is same-origin.
    Small responses (under ``minimum_size`` bytes) are sent as they are.
    """

    def __init__(self, app: ASGIApp, *, minimum_size: int = 500, level: int = 6) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        request = Headers(scope=scope)
        gzip_ok = accepts_gzip(request.get("accept-encoding", ""))
        cross_site = request.get("sec-fetch-site") == "cross-site"
        await self.app(scope, receive, _Gzipping(send, self, gzip_ok, cross_site))


class _Gzipping:
    """One response: the start message is held until the first body part says how big it is."""

    def __init__(self, send: Send, owner: Compress, gzip_ok: bool, cross_site: bool) -> None:
        self.send = send
        self.owner = owner
        self.gzip_ok = gzip_ok
        self.cross_site = cross_site
        self.start: Message | None = None
        self.compressor: Any = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        body_part = message["type"] == "http.response.body"
        if body_part and self.start is not None:
            self._decide(self.start, message)
        if body_part and self.compressor is not None:
            more = message.get("more_body", False)
            body = self.compressor.compress(message.get("body", b""))
            if not more:
                body += self.compressor.flush()
                if self.start is not None:  # the whole body at once: its length is known
                    MutableHeaders(scope=self.start)["Content-Length"] = str(len(body))
            message = {**message, "body": body}
        if self.start is not None:
            start, self.start = self.start, None
            await self.send(start)
        await self.send(message)

    def _decide(self, start: Message, first: Message) -> None:
        headers = MutableHeaders(scope=start)
        kind = headers.get("content-type", "")
        if not kind.startswith(COMPRESSIBLE) or "content-encoding" in headers:
            return
        more = first.get("more_body", False)
        if not more and len(first.get("body", b"")) < self.owner.minimum_size:
            return
        # The same address can come back compressed or not: caches must keep them apart.
        headers.add_vary_header("Accept-Encoding")
        if not self.gzip_ok or (self.cross_site and kind.startswith("text/html")):
            return
        self.compressor = zlib.compressobj(self.owner.level, zlib.DEFLATED, 31)  # 31: gzip
        headers["Content-Encoding"] = "gzip"
        del headers["Content-Length"]
        # Another body, another tag (a strong ETag names exact bytes); a weak one still matches
        # If-None-Match, so revalidation keeps working.
        etag = headers.get("etag")
        if etag and not etag.startswith("W/"):
            headers["ETag"] = f"W/{etag}"
