"""`backaudit report rules` and `backaudit replay`: what the triage rules do, read from the
stored records (PRODUCT.md, "Monitoring and change impact"). Both only read, through a
session the database itself keeps read-only; the work is in app/services/rule_report.py and
app/services/replay.py, and this module only reads the options and prints."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.config import get_settings
from app.db import make_engine, normalise_url
from app.engine import DefinitionError
from app.migrate import require_current_schema
from app.models import Clinic
from app.services import clinics, replay, rule_report
from app.services.questionnaires import DEFAULT_QUESTIONNAIRE, Registry

from .exits import EXIT_OK, EXIT_PROBLEM

TOP_LISTED = 10  # ids listed as most often missing, or dropped


def register(sub: Any) -> None:
    """Add `report rules` and `replay` to the `backaudit` parser."""
    report = sub.add_parser("report", help="reports read from the stored records").add_subparsers(
        title="report commands", metavar="REPORT"
    )
    p = report.add_parser(
        "rules",
        help="how often each triage rule fired, by month (UTC): alone, or with other rules",
    )
    _filter_options(p)
    p.add_argument("--csv", action="store_true", help="print CSV instead of the tables")
    p.set_defaults(handler=cmd_report_rules)

    p = sub.add_parser(
        "replay",
        help="triage stored submissions again under another loaded version (changes nothing)",
        description="Triage the stored submissions of the default questionnaire again under"
        " another loaded version, and print what would change. Nothing is written.",
    )
    p.add_argument("--to", required=True, metavar="VERSION", help="the version to replay under")
    p.add_argument(
        "--from",
        dest="from_version",
        metavar="VERSION",
        help="only submissions made with this version (default: every other version)",
    )
    _filter_options(p)
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write one row per record here")
    p.set_defaults(handler=cmd_replay)


def _filter_options(p: Any) -> None:
    p.add_argument("--clinic", help="only this clinic's (its id, or its exact name)")
    p.add_argument(
        "--since",
        type=_day,
        metavar="YYYY-MM-DD",
        help="only records made on or after this day (UTC)",
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day written YYYY-MM-DD") from None


class _CannotReadError(Exception):
    """A problem the user can fix, said in one line."""


@contextmanager
def read_only_session() -> Iterator[Session]:
    """A session on DATABASE_URL that cannot write: the database refuses it (SQLite's
    query_only, PostgreSQL's read-only transactions), whatever a bug might try. The schema
    must be current: a read-only command migrates nothing."""
    url = get_settings().database.url
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path not in ("", ":memory:") and not Path(path).exists():
            # Opening it would make an empty file.
            raise _CannotReadError(f"no database at {path}; check DATABASE_URL")
    engine = make_engine(url)
    event.listen(engine, "connect", _read_only)
    try:
        require_current_schema(engine)
        with Session(engine) as session:
            yield session
            session.rollback()
    finally:
        engine.dispose()


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    if "sqlite" in type(dbapi_connection).__module__:
        cursor.execute("PRAGMA query_only = ON")
    else:
        # A SET inside a transaction that is rolled back is undone: commit it.
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        dbapi_connection.commit()
    cursor.close()


def _registry() -> Registry:
    settings = get_settings()
    return Registry.load(
        settings.questionnaires_dir,
        DEFAULT_QUESTIONNAIRE,
        settings.help_lines.placeholders(),
    )


def _clinic(session: Session, id_or_name: str | None) -> Clinic | None:
    if id_or_name is None:
        return None
    try:
        return clinics.find_clinic(session, id_or_name=id_or_name)
    except clinics.ClinicNotFoundError as error:
        raise _CannotReadError(str(error)) from None


def _chosen(clinic: Clinic | None, since: date | None) -> str:
    """Which records the options chose, in words."""
    who = f"clinic {clinic.name} ({clinic.id})" if clinic else "every clinic, and no clinic"
    when = f"made on or after {since:%Y-%m-%d} (UTC)" if since else "made at any time"
    return f"Chosen: {who}; {when}"


def _problem(message: str) -> int:
    print(f"backaudit: {message}", file=sys.stderr)
    return EXIT_PROBLEM


# -- backaudit report rules ----------------------------------------------------------------------


def cmd_report_rules(args: argparse.Namespace) -> int:
    try:
        registry = _registry()
        with read_only_session() as session:
            clinic = _clinic(session, args.clinic)
            chosen = _chosen(clinic, args.since)
            report = rule_report.rule_report(
                session, registry, clinic_id=clinic.id if clinic else None, since=args.since
            )
    except (_CannotReadError, DefinitionError) as error:
        return _problem(str(error))
    if args.csv:
        sys.stdout.writelines(rule_report.csv_lines(report))
    else:
        _print_rules(report, chosen, sys.stdout)
    return EXIT_OK


def _print_rules(report: rule_report.RuleReport, chosen: str, out: TextIO) -> None:
    print("Triage rules fired, by calendar month in UTC", file=out)
    print(chosen, file=out)
    print("alone: the only rule that fired; with others: fired with at least one other", file=out)
    print("Submissions replaced by a correction are left out.", file=out)
    if not report.months:
        print("\nNo submissions or check-ins.", file=out)
        return
    for kind in rule_report.KINDS:
        months = report.of_kind(kind)
        for qid in dict.fromkeys(m.questionnaire_id for m in months):
            print(f"\n{kind.capitalize()} ({qid})", file=out)
            for m in (m for m in months if m.questionnaire_id == qid):
                noun = kind if m.records != 1 else kind.removesuffix("s")
                print(
                    f"{m.month:%Y-%m}: {m.records:,} {noun}, {m.no_rule:,} with no rule fired",
                    file=out,
                )
                if m.rules:
                    rows = [("rule", "alone", "with others", "total")]
                    rows += [
                        (r.code, f"{r.alone:,}", f"{r.with_others:,}", f"{r.total:,}")
                        for r in m.rules
                    ]
                    for line in _table(rows):
                        print(f"  {line}", file=out)


# -- backaudit replay ----------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace) -> int:
    try:
        registry = _registry()
        target = replay.target_version(registry, registry.default_id, args.to)
        if args.from_version is not None:
            replay.target_version(registry, registry.default_id, args.from_version)
    except (replay.UnknownVersionError, DefinitionError) as error:
        return _problem(str(error))
    if args.from_version == args.to:
        return _problem(f"--from and --to are both {args.to}: nothing would change")
    since = None if args.since is None else datetime.combine(args.since, time(), UTC)
    try:
        with read_only_session() as session:
            clinic = _clinic(session, args.clinic)
            chosen = _chosen(clinic, args.since)
            names = {c.id: c.name for c in clinics.list_clinics(session)} if args.csv else {}
            with _csv_file(args.csv) as csv_out:  # opened once the options are known good
                summary = replay.replay(
                    session,
                    registry,
                    target,
                    from_version=args.from_version,
                    clinic_id=clinic.id if clinic else None,
                    since=since,
                    each=None if csv_out is None else _csv_writer(csv_out, replay.csv_lines(names)),
                )
    except _CannotReadError as error:
        return _problem(str(error))
    _print_replay(summary, chosen, sys.stdout)
    if args.csv is not None:
        print(f"\nOne row per record: {args.csv}", file=sys.stdout)
    return EXIT_OK


def _csv_writer(
    out: TextIO, make_line: Callable[[replay.Replayed | None], str]
) -> Callable[[replay.Replayed], None]:
    out.write(make_line(None))

    def write(record: replay.Replayed) -> None:
        out.write(make_line(record))

    return write


@contextmanager
def _csv_file(path: Path | None) -> Iterator[TextIO | None]:
    if path is None:
        yield None
        return
    try:
        out = path.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise _CannotReadError(f"cannot write {path}: {error.strerror}") from None
    with out:
        yield out


def _print_replay(summary: replay.ReplaySummary, chosen: str, out: TextIO) -> None:
    to = summary.to_version
    print(
        f"Replay of stored {summary.questionnaire_id} submissions under version {to}"
        " (read only: nothing was changed)",
        file=out,
    )
    print(chosen, file=out)
    versions = ", ".join(f"{v}: {n:,}" for v, n in sorted(summary.versions.items()))
    print(
        f"Replayed: {summary.records:,}" + (f" (made with {versions})" if versions else ""),
        file=out,
    )
    print(
        f"Left out: {summary.already_at_target:,} already made with {to};"
        f" {summary.replaced:,} replaced by a correction",
        file=out,
    )
    if not summary.records:
        print("\nNo submissions to replay.", file=out)
        return
    if summary.dropped_answers:
        print(
            f"Answers dropped ({to} has no such question, or refuses the value):"
            f" {summary.dropped_answers:,} in {summary.records_with_dropped:,} records: "
            + _most_common(summary.dropped_ids.most_common(TOP_LISTED)),
            file=out,
        )
    else:
        print(f"Answers dropped ({to} has no such question, or refuses the value): none", file=out)
    print(
        f"Records lacking an answer {to} asks (counted as not given):"
        f" {summary.records_missing:,} of {summary.records:,}",
        file=out,
    )
    if summary.missing_ids:
        print(
            "  most often missing: " + _most_common(summary.missing_ids.most_common(TOP_LISTED)),
            file=out,
        )

    codes = summary.level_codes()
    print(f"\nLevels: rows before (each record's own version), columns after ({to})", file=out)
    rows: list[Sequence[str]] = [("before \\ after", *codes, "total")]
    for before in codes:
        counts = [summary.level_table[(before, after)] for after in codes]
        rows.append((before, *(f"{n:,}" for n in counts), f"{sum(counts):,}"))
    totals = [sum(summary.level_table[(b, a)] for b in codes) for a in codes]
    rows.append(("total", *(f"{n:,}" for n in totals), f"{summary.records:,}"))
    for line in _table(rows):
        print(line, file=out)
    moves = summary.moves
    print(
        f"Moved up (more urgent): {moves['up']:,}; down (less urgent): {moves['down']:,};"
        f" unchanged: {moves['same']:,}",
        file=out,
    )

    print(f"\nRules: records where each fired before and after ({to})", file=out)
    rule_rows: list[Sequence[str]] = [
        ("rule", "before", "after", "newly firing", "no longer firing")
    ]
    rule_rows += [
        (r.code, f"{r.before:,}", f"{r.after:,}", f"{r.newly:,}", f"{r.no_longer:,}")
        for r in summary.rule_rows()
    ]
    for line in _table(rule_rows):
        print(line, file=out)


def _most_common(pairs: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{key} ({n:,})" for key, n in pairs)


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as lines of columns two spaces apart: the first column left-aligned, the others
    (numbers) right-aligned under their headings."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
    return lines
