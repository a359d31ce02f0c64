"""`backaudit api-key create|list|revoke`: keys for apps that use the JSON API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlmodel import Session

from app.config import get_settings
from app.migrate import command_session
from app.services import api_keys, clinics

from .exits import EXIT_OK, EXIT_PROBLEM


def register(sub: Any) -> None:
    """Add the `api-key` subcommands to the `backaudit` parser."""
    keys = sub.add_parser("api-key", help="keys for apps that use the JSON API").add_subparsers(
        title="api-key commands", metavar="ACTION"
    )
    p = keys.add_parser("create", help="make a key (it is printed once: store it safely)")
    p.add_argument("--name", required=True, help="which app or integration uses the key")
    p.add_argument(
        "--clinic", help="clinic id or name: the key may also read that clinic's submissions"
    )
    p.add_argument(
        "--scope",
        action="append",
        default=[],
        choices=api_keys.SCOPES,
        help="grant more than reading: checkins:write lets a --clinic key store check-ins of"
        " the clinic's submissions (repeatable)",
    )
    p.set_defaults(handler=cmd_create)
    p = keys.add_parser("list", help="list keys (prefix, name, clinic, state)")
    p.set_defaults(handler=cmd_list)
    p = keys.add_parser("revoke", help="revoke a key at once")
    p.add_argument("key", metavar="PREFIX_OR_ID", help="the key's prefix (from `list`) or id")
    p.set_defaults(handler=cmd_revoke)


def _session() -> AbstractContextManager[Session]:
    return command_session(get_settings().database.url)


def cmd_create(args: argparse.Namespace) -> int:
    with _session() as session:
        clinic_id = None
        if args.clinic:
            try:
                clinic_id = clinics.find_clinic(session, id_or_name=args.clinic).id
            except clinics.ClinicNotFoundError as exc:
                print(exc, file=sys.stderr)
                return EXIT_PROBLEM
        try:
            client, key = api_keys.create_api_key(
                session=session, name=args.name, clinic_id=clinic_id, scopes=args.scope
            )
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return EXIT_PROBLEM
        session.commit()
    print(key)
    print(
        f"created API key {client.key_prefix}… for {client.name!r} (id {client.id});"
        " this is the only time the key is shown",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with _session() as session:
        clients = api_keys.list_api_keys(session=session)
    if not clients:
        print("no API keys", file=sys.stderr)
        return EXIT_OK
    rows = [("PREFIX", "STATE", "CREATED (UTC)", "CLINIC", "SCOPES", "ID", "NAME")]
    rows += [
        (
            c.key_prefix,
            "revoked" if c.revoked_at else "active",
            f"{c.created_at:%Y-%m-%d %H:%M}",
            str(c.clinic_id or "-"),
            c.scopes or "-",
            str(c.id),
            c.name,
        )
        for c in clients
    ]
    for line in _table(rows):
        print(line)
    return EXIT_OK


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as lines of aligned columns, two spaces apart; the last column is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]


def cmd_revoke(args: argparse.Namespace) -> int:
    with _session() as session:
        try:
            client = api_keys.revoke_api_key(session=session, prefix_or_id=args.key)
        except api_keys.ApiKeyNotFoundError as exc:
            print(exc, file=sys.stderr)
            return EXIT_PROBLEM
        session.commit()
    print(f"revoked API key {client.key_prefix}… ({client.name})")
    return EXIT_OK
