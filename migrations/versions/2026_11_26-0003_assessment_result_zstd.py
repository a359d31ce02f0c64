"""assessment.result stored as zstd-compressed JSON

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 14:00:00

A result is ~22 kB of JSON, most of it the plan's exercise texts. Stored as jsonb, PostgreSQL
parsed it and compressed it to ~12 kB on every insert, and under load those bytes set the API's
tail latency (benchmarks/api.py). Now the app compresses it with zstd (~7 kB, one standard zstd
frame of the UTF-8 JSON; app.column_types.CompressedJSON) and the database stores the bytes as they
are: on PostgreSQL with STORAGE EXTERNAL, because compressing them again gains nothing. The
same on SQLite.

Existing rows are converted here, in batches, both ways: downgrading writes them back as JSON
(on PostgreSQL with lz4 again where 0002 set it). The JSON moves as text, never parsed and
written again, so every value stays exact. The codec is written out here rather than imported
from the app, so that this migration keeps doing what it did when the app changes.

It is one transaction (on SQLite too: migrations/env.py), so a failure leaves nothing changed,
and the table is locked until it ends. Measured with 20,000 stored results: 4 s on PostgreSQL
and 9 s on SQLite. The old values' space is free afterwards but stays with the table until a
VACUUM (README: Upgrading).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
import zstandard
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BATCH = 500  # rows read and rewritten at a time: bounded memory on a large table
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # how every zstd frame begins


def upgrade() -> None:
    _replace_result_column(sa.LargeBinary(), _compress)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE assessment ALTER COLUMN result SET STORAGE EXTERNAL")


def downgrade() -> None:
    _replace_result_column(JSON_TYPE, _decompress)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _server_has_lz4(bind):
        op.execute("ALTER TABLE assessment ALTER COLUMN result SET COMPRESSION lz4")  # as 0002


def _replace_result_column(new_type: Any, convert: Callable[[Any], Any]) -> None:
    """A new column of ``new_type`` takes every row's converted result, then the old one goes.

    The JSON is moved as text, never parsed and written again, so every value stays exactly as
    it was (numbers of any size included)."""
    bind = op.get_bind()
    to_json = isinstance(new_type, sa.JSON)
    op.add_column("assessment", sa.Column("result_new", new_type, nullable=True))
    table = sa.table(
        "assessment",
        sa.column("id", sa.Uuid()),
        sa.column("result", sa.LargeBinary() if to_json else sa.Text()),
        sa.column("result_new", sa.Text() if to_json else sa.LargeBinary()),
    )
    value: sa.ColumnElement[Any] = sa.bindparam("value")
    if to_json and bind.dialect.name == "postgresql":
        value = sa.cast(sa.bindparam("value", type_=sa.Text()), postgresql.JSONB)
    rewrite = sa.update(table).where(table.c.id == sa.bindparam("row_id")).values(result_new=value)
    # The stored JSON as text: jsonb's own text form on PostgreSQL, the text itself on SQLite.
    source = table.c.result if to_json else sa.cast(table.c.result, sa.Text())
    last_id = None
    while True:
        query = sa.select(table.c.id, source).order_by(table.c.id).limit(BATCH)
        if last_id is not None:
            query = query.where(table.c.id > last_id)
        rows = bind.execute(query).all()
        if not rows:
            break
        bind.execute(
            rewrite, [{"row_id": row_id, "value": convert(stored)} for row_id, stored in rows]
        )
        last_id = rows[-1][0]
    # SQLite cannot drop or alter columns in place: the batch rebuilds the table there.
    with op.batch_alter_table("assessment") as batch:
        batch.drop_column("result")
        batch.alter_column(
            "result_new", new_column_name="result", existing_type=new_type, nullable=False
        )


def _compress(json_text: Any) -> bytes:
    # zstd's default level: smaller rows than the app's level 1, and time matters less here.
    return zstandard.ZstdCompressor(level=3).compress(json_text.encode())


def _decompress(frame: Any) -> Any:
    data = bytes(frame)
    if data[:4] != ZSTD_MAGIC:  # JSON text, as an older version of the app wrote it
        return data.decode()
    return zstandard.ZstdDecompressor().decompress(data).decode()


def _server_has_lz4(bind: sa.Connection) -> bool:
    offered = bind.execute(
        sa.text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
    ).scalar()
    return bool(offered)
