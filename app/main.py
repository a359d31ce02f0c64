"""The web application: one FastAPI app for the patient pages, the staff pages and the API."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__, assets
from .api.docs import router as api_docs_router
from .api.errors import error_response
from .api.openapi import API_PATH
from .api.routes import router as api_router
from .clock import Clock, system_clock
from .config import RETIRED_VARIABLES, Settings, get_settings, retired_variables_set
from .db import make_engine, pool_limits
from .deps import DbDep, DbSlots
from .i18n import LanguageMiddleware, offered_languages
from .middleware import BodyLimit, Compress, RequestLog, RequestTarget, SecurityHeaders
from .services import pdf
from .services.alert_delivery import AlertSender
from .services.questionnaires import DEFAULT_QUESTIONNAIRE, Registry
from .staff.routes import router as staff_router
from .templating import templates
from .web import errors as web_errors
from .web.checkins import router as checkin_router
from .web.release import router as release_router
from .web.routes import router as web_router
from .web.trust import router as trust_router


def create_served_app() -> FastAPI:
    """The app as `backaudit serve` runs it: uvicorn calls this once in each worker process."""
    # `serve` has uvicorn send the security headers (app/cli/server.py), so that its own
    # answers (a 400 for a request it cannot parse) carry them too; added here as well, they
    # would come twice.
    app = create_app(server_sends_security_headers=True)
    # What exists now (modules, routes, the loaded questionnaires) lives as long as the process.
    # Frozen, the collector stops walking it on every full collection: those took ~80 ms, a
    # pause for every request in flight.
    gc.freeze()
    # With the default threshold (a young collection per 700 objects more made than freed),
    # the collector ran ~280 times a second under load and took ~8% of the CPU (measured with
    # gc.callbacks in benchmarks/api.py's run). What a request makes is nearly all freed by
    # reference counting, so collecting every 10,000 loses nothing: cycles go, just later.
    gc.set_threshold(10_000)
    return app


def _select_one(session: Session) -> None:
    session.connection().execute(text("SELECT 1"))


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Clinic alerts are sent from here, after the commits that queued them (app/deps.py).
    sender = AlertSender(
        app.state.engine, app.state.settings, app.state.registry, clock=app.state.clock
    )
    sender.start()
    app.state.alert_sender = sender
    try:
        yield
    finally:
        await sender.stop()
        app.state.pdf_renderer.shutdown()
        # Closed connections: PostgreSQL sees a clean goodbye, and SQLite's last close
        # checkpoints and removes the -wal and -shm files.
        app.state.engine.dispose()


async def _no_route(request: Request, exc: Exception) -> Response:
    """No route for the path (or not for the method): only here is the door told by the path,
    since no door's route was found."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api/"):
        return error_response(exc.status_code, str(exc.detail), (), exc.headers)
    return await web_errors.http_error(request, exc)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = system_clock,
    server_sends_security_headers: bool = False,
) -> FastAPI:
    """The app. ``clock``: what it takes the time from when it stores a submission or a
    check-in and when it sends their alerts (app/clock.py); a test's own, in tests."""
    settings = settings or get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    app = FastAPI(
        title="backaudit",
        version=__version__,
        summary="Low back pain: red-flag triage, lifestyle audit and a home exercise plan.",
        docs_url=None,
        redoc_url=None,
        # The API's own document is at /api/v1/openapi.json (app/api/openapi.py), and its
        # reference page at /api/docs: Swagger UI would need a CDN and inline script.
        openapi_url=None,
        lifespan=_lifespan,
    )
    for name in retired_variables_set(os.environ, Path(".env")):
        logging.getLogger("backaudit").warning(
            "%s is set but is no longer a setting (%s): it changes nothing", name,
            RETIRED_VARIABLES[name],
        )  # fmt: skip
    app.state.settings = settings
    app.state.clock = clock
    # Templates change only with a release: outside development they are not checked for
    # changes on every page (a stat() per template file a page uses). The environment is the
    # process's (app/templating.py), so the last app made sets it: a server makes one; tests
    # that make several differ only in that stat().
    templates.env.auto_reload = settings.is_development
    app.state.engine = make_engine(
        settings.database.url,
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.max_overflow,
        pool_timeout=settings.database.pool_timeout,
    )
    app.state.db_slots = DbSlots(
        sum(
            pool_limits(
                settings.database.url, settings.database.pool_size, settings.database.max_overflow
            )
        )
    )
    # Loading validates every definition (and translation): a broken one stops the app
    # starting. Draft translations are offered only where the settings say so.
    drafts, pseudo_locale = settings.languages.offered(settings.environment)
    app.state.registry = Registry.load(
        settings.questionnaires_dir,
        DEFAULT_QUESTIONNAIRE,
        settings.help_lines.placeholders(),
        offer_draft=drafts,
        pseudo_locale=pseudo_locale,
    )
    app.state.alert_sender = None  # the lifespan starts one
    app.state.rate_buckets_swept_at = None  # app/deps.py take_rate
    # Result PDFs are made in processes of their own, started on the first one.
    app.state.pdf_renderer = pdf.PdfRenderer(
        workers=settings.pdf.workers, max_pending=settings.pdf.max_pending
    )

    # The languages a person may be given (app/i18n.py): drafts only where settings allow, and
    # only those the questionnaires are offered in too (a page is never half translated).
    app.state.languages = offered_languages(
        offer_drafts=drafts,
        pseudo_locale=pseudo_locale,
        definitions=app.state.registry.language_tags,
    )
    app.add_middleware(
        LanguageMiddleware,
        offered=[language.code for language in app.state.languages],
        secure=settings.environment == "production",  # as the patient pages' other cookies
    )
    app.add_middleware(Compress)  # pages, CSS, JS and SVG gzipped (app/middleware.py)
    app.add_middleware(BodyLimit)
    # Before anything reads the body; inside SecurityHeaders, so its 400 has them too.
    app.add_middleware(
        RequestTarget,
        allowed_hosts=settings.trusted_hosts,
        proxies_trusted=bool(settings.http.forwarded_allow_ips),
    )
    if not server_sends_security_headers:
        app.add_middleware(SecurityHeaders, hsts=not settings.is_development)
    app.add_middleware(RequestLog)
    app.mount("/static", assets.StaticAssets(directory=assets.STATIC_DIR), name="static")
    app.add_api_route("/favicon.ico", assets.favicon, methods=["GET"], include_in_schema=False)
    # A request is matched against each route before its own in turn, so the busy ones come
    # first: the API (14 routes), then the patient's pages (the result page and the form's
    # first); the staff pages' 47 last. No two routes match the same path and method
    # (tests/test_routes.py): order decides nothing but speed, and, for a method no route of
    # a path takes, which route's methods the 405's Allow header lists (the first's).
    app.include_router(api_router, prefix=API_PATH)
    app.include_router(web_router)
    app.include_router(checkin_router)
    app.include_router(release_router)
    app.include_router(trust_router)
    app.include_router(api_docs_router, prefix="/api")
    app.include_router(staff_router, prefix="/staff")
    # Each door renders the application's errors its own way: the API's routes as JSON
    # (app/api/errors.py ApiRoute), everything else as HTML pages.
    web_errors.install(app)
    app.add_exception_handler(StarletteHTTPException, _no_route)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document() -> RedirectResponse:
        # Where tools look first. The document is the API's, versioned with it: sent there.
        return RedirectResponse(f"{API_PATH}/openapi.json", status_code=308)

    @app.get(
        "/healthz",
        tags=["operations"],
        summary="Liveness and database check",
        responses={
            200: {
                "description": "Up, and the database answers.",
                "content": {
                    "application/json": {
                        "example": {"status": "ok", "database": "ok", "version": __version__}
                    }
                },
            },
            503: {
                "description": "Up, but the database cannot be reached.",
                "content": {
                    "application/json": {"example": {"status": "error", "database": "unreachable"}}
                },
            },
        },
    )
    async def healthz(db: DbDep) -> JSONResponse:
        try:
            await db.run(_select_one)
        except Exception:
            logging.getLogger("backaudit").exception("health check: database unreachable")
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    return app
