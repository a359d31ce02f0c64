"""`backaudit serve` and `backaudit db ...`: running the app and migrating its database."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from app.config import get_settings

from .exits import EXIT_OK


def register(sub: Any) -> None:
    """Add `serve` and the `db` commands to the `backaudit` parser."""
    p = sub.add_parser("serve", help="run the web app (applies migrations first on SQLite)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(handler=cmd_serve)

    db = sub.add_parser("db", help="database migrations").add_subparsers(
        title="db commands", metavar="ACTION"
    )
    p = db.add_parser("upgrade", help="apply migrations (default: to the newest)")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(handler=cmd_db_upgrade)
    p = db.add_parser("downgrade", help="undo migrations down to REVISION ('base' for empty)")
    p.add_argument("revision")
    p.set_defaults(handler=cmd_db_downgrade)
    p = db.add_parser("revision", help="(developers) write a new migration from model changes")
    p.add_argument("-m", "--message", required=True)
    p.set_defaults(handler=cmd_db_revision)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.db import make_engine
    from app.middleware import security_headers
    from app.migrate import prepare
    from app.serving import HeadersTimeoutProtocol, raise_open_files_limit

    settings = get_settings()
    engine = make_engine(settings.database.url)
    try:
        prepare(engine)  # SQLite, the embedded default: migrated here, zero set-up
    finally:
        engine.dispose()
    # Each connection is an open file: with the usual soft limit of 1,024, slow clients could
    # take them all (app/serving.py).
    raise_open_files_limit()
    print(f"backaudit: serving on http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.run(
        "app.main:create_served_app",
        factory=True,
        # asyncio's own loop, not uvloop: under load uvloop served some requests far later than
        # others (p99 4x the median in benchmarks/api.py; asyncio's p99 is ~1.3x).
        loop="asyncio",
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # our own request log names routes, never paths with tokens
        # X-Forwarded-* only from the proxies named in FORWARDED_ALLOW_IPS (none by default).
        proxy_headers=bool(settings.http.forwarded_allow_ips),
        forwarded_allow_ips=settings.http.forwarded_allow_ips or None,
        server_header=False,  # "Server: uvicorn" tells an attacker what to try
        # uvicorn sends these on every response, its own 400 for a request it cannot parse
        # included; the served app does not add them again (create_served_app). httptools, not
        # h11: h11's 400 sends no configured header.
        headers=[
            (name.decode(), value.decode())
            for name, value in security_headers(hsts=not settings.is_development)
        ],
        # httptools, with one addition: headers must arrive within HEADERS_TIMEOUT seconds
        # (uvicorn has no such timeout); an idle keep-alive connection is closed after 5 s
        # (uvicorn's default, said here).
        http=HeadersTimeoutProtocol,
        timeout_keep_alive=5,
    )
    return EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from app.migrate import upgrade

    return _migrate(upgrade, args.revision, "upgraded")


def cmd_db_downgrade(args: argparse.Namespace) -> int:
    from app.migrate import downgrade

    return _migrate(downgrade, args.revision, "downgraded")


def _migrate(step: Callable[[Any, str], None], revision: str, done: str) -> int:
    from app.db import make_engine

    engine = make_engine(get_settings().database.url)
    try:
        step(engine, revision)
    finally:
        engine.dispose()
    print(f"database {done} to {revision}")
    return EXIT_OK


def cmd_db_revision(args: argparse.Namespace) -> int:
    from alembic import command

    from app.migrate import alembic_config

    command.revision(
        alembic_config(get_settings().database.url), message=args.message, autogenerate=True
    )
    return EXIT_OK
