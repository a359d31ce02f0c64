"""The `backaudit` command line: `main` reads the command and runs its handler. Each group of
commands registers itself from its own module: questionnaires (validate, assess), server
(serve, db), api_keys (api-key), clinics (clinic, user), links (link) and reports (report,
replay). They
print and set exit codes; the work is in app/services and app/engine."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .exits import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_PROBLEM, EXIT_USAGE


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
    except KeyboardInterrupt:  # Ctrl+C, at a password prompt say: one line, not a traceback
        print("\nbackaudit: stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        message = _problem_message(exc)
        if message is None:
            raise
        print(f"backaudit: {message}", file=sys.stderr)
        return EXIT_PROBLEM
    return result


def _problem_message(exc: Exception) -> str | None:
    """A one-line message for a problem the user can fix (schema not migrated, database not
    reachable); None for a bug, which keeps its traceback."""
    from sqlalchemy.exc import OperationalError

    from app.migrate import SchemaNotCurrentError

    if isinstance(exc, SchemaNotCurrentError):
        return str(exc)
    if isinstance(exc, OperationalError):
        # The driver's first line says what failed (host refused, no such database...); the
        # statement and its parameters are not shown (hide_parameters), so no data leaks.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unknown error"
        return f"cannot use the database ({reason}); check DATABASE_URL"
    return None


def _parser() -> argparse.ArgumentParser:
    # The groups load the services and the database code: imported when a command is read.
    from . import api_keys, clinics, links, questionnaires, reports, server

    parser = argparse.ArgumentParser(
        prog="backaudit", description="Low back pain: red-flag triage and a lifestyle audit."
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    # In this order in `backaudit --help`.
    for group in (questionnaires, server, api_keys, clinics, links, reports):
        group.register(sub)
    return parser
