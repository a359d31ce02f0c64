"""The `backaudit` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .clock import system_clock
from .config import get_settings
from .engine import (
    AnswerError,
    DefinitionError,
    Questionnaire,
    assess,
    load_versions,
    rule_warnings,
    validate_path,
    version_key,
)
from .services.questionnaires import (
    Registry,
    UnknownQuestionnaireError,
    VersionNotAcceptedError,
)

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 2, 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a command stopped by SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_USAGE
    try:
        result: int = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit where it cannot be caught
    except BrokenPipeError:
        # The reader stopped early (`backaudit assess answers.json | head -1`): stop quietly,
        # like other command-line tools. What is still buffered goes nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        message = _problem_message(exc)
        if message is None:
            raise
        print(f"backaudit: {message}", file=sys.stderr)
        return EXIT_PROBLEMS
    return result


def _problem_message(exc: Exception) -> str | None:
    """A one-line message for a problem the user can fix (schema not migrated, database not
    reachable); None for a bug, which keeps its traceback."""
    from sqlalchemy.exc import OperationalError

    from .migrate import SchemaNotCurrentError

    if isinstance(exc, SchemaNotCurrentError):
        return str(exc)
    if isinstance(exc, OperationalError):
        # The driver's first line says what failed (host refused, no such database...); the
        # statement and its parameters are not shown (hide_parameters), so no data leaks.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unknown error"
        return f"cannot use the database ({reason}); check DATABASE_URL"
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backaudit", description="Low back pain: red-flag triage and a lifestyle audit."
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = sub.add_parser("validate", help="check questionnaire and exercise-block files")
    p.add_argument(
        "path", nargs="?", type=Path, help="a file or folder (default: the questionnaires folder)"
    )
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("assess", help="print the result for a JSON file of answers")
    p.add_argument("file", help='a JSON object of answers, or {"answers": {...}}; "-" reads stdin')
    p.add_argument("--questionnaire", help="questionnaire id (default: the default questionnaire)")
    p.add_argument(
        "--questionnaire-version",
        help="assess against this older version while it is accepted (default: the newest)",
    )
    p.set_defaults(handler=cmd_assess)

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

    _register_admin_commands(sub)
    return parser


def _register_admin_commands(sub: Any) -> None:
    """Commands for API keys, clinics and staff live with their services."""
    from .admin_cli import register

    register(sub)


# -- engine commands -----------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    path = args.path or get_settings().questionnaires_dir
    loaded: list[Questionnaire] = []
    problems = validate_path(path, loaded=loaded)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return EXIT_PROBLEMS
    # Warnings for the version in use only: older versions are read-only.
    newest: dict[str, Questionnaire] = {}
    for q in loaded:
        if q.id not in newest or version_key(q.version) > version_key(newest[q.id].version):
            newest[q.id] = q
    warnings = [w for q in newest.values() for w in rule_warnings(q)]
    for warning in warnings:
        print(warning, file=sys.stderr)
    print(f"{path}: ok" + (f" ({len(warnings)} warning(s))" if warnings else ""))
    return EXIT_OK


def cmd_assess(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_PROBLEMS
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"{args.file}: not valid JSON: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    if isinstance(data, dict) and set(data) == {"answers"}:
        data = data["answers"]
    try:
        registry = Registry(
            load_versions(settings.questionnaires_dir), settings.default_questionnaire
        )
    except DefinitionError as exc:
        print(exc, file=sys.stderr)
        return EXIT_PROBLEMS
    qid = args.questionnaire or settings.default_questionnaire
    try:
        q = registry.for_client(qid, args.questionnaire_version, system_clock().date())
    except UnknownQuestionnaireError:
        names = ", ".join(q.id for q in registry.all())
        print(f"unknown questionnaire {qid!r} (have: {names})", file=sys.stderr)
        return EXIT_PROBLEMS
    except VersionNotAcceptedError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_PROBLEMS
    try:
        result = assess(q, data)
    except AnswerError as exc:
        for problem in exc.problems:
            print(f"{problem.question}: {problem.message} [{problem.code}]", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; no result", file=sys.stderr)
        return EXIT_PROBLEMS
    newer = registry.newer_version(q.id, q.version)
    if newer is not None:
        result["questionnaire"]["newer_version"] = newer
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return EXIT_OK


# -- running and migrating ----------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .db import make_engine
    from .middleware import security_headers
    from .migrate import prepare
    from .serving import HeadersTimeoutProtocol, raise_open_files_limit

    settings = get_settings()
    engine = make_engine(settings.database_url)
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
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
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
    from .migrate import upgrade

    return _migrate(upgrade, args.revision, "upgraded")


def cmd_db_downgrade(args: argparse.Namespace) -> int:
    from .migrate import downgrade

    return _migrate(downgrade, args.revision, "downgraded")


def _migrate(step: Callable[[Any, str], None], revision: str, done: str) -> int:
    from .db import make_engine

    engine = make_engine(get_settings().database_url)
    try:
        step(engine, revision)
    finally:
        engine.dispose()
    print(f"database {done} to {revision}")
    return EXIT_OK


def cmd_db_revision(args: argparse.Namespace) -> int:
    from alembic import command

    from .migrate import alembic_config

    command.revision(
        alembic_config(get_settings().database_url), message=args.message, autogenerate=True
    )
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
