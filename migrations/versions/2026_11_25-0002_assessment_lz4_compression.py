"""assessment JSON columns compressed with lz4 on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:40:00

A stored result is ~26 kB of JSON (the plan's texts), so PostgreSQL compresses it out of line
(TOAST). Its default method, pglz, was half of PostgreSQL's CPU time per stored assessment;
lz4 needs half as much, for rows ~15% larger (measured on PostgreSQL 15: 0.69 -> 0.35 ms per
INSERT, 11.8 -> 13.9 kB per row). Only new values are written with lz4; older rows stay
readable as they are. Downgrading returns the columns to the server's default method.

Servers before PostgreSQL 14, or built without lz4, keep pglz: nothing to do there. SQLite has
no such setting.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("answers", "result")


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")


def _set_compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _server_has_lz4(bind):
        return
    columns = ", ".join(f"ALTER COLUMN {name} SET COMPRESSION {method}" for name in COLUMNS)
    op.execute(f"ALTER TABLE assessment {columns}")


def _server_has_lz4(bind: sa.Connection) -> bool:
    # The setting exists from PostgreSQL 14 on, and lists lz4 only when the server has it.
    offered = bind.execute(
        sa.text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
    ).scalar()
    return bool(offered)
