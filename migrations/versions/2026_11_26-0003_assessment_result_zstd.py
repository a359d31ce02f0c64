"""assessment.result stored as zstd-compressed JSON

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 14:00:00

A result is ~22 kB of JSON, most of it the plan's exercise texts. Stored as jsonb, PostgreSQL
parsed it and compressed it to ~12 kB on every insert, and under load those bytes set the API's
tail latency (benchmarks/api.py). Now the app compresses it with zstd (~7 kB, one standard zstd
frame of the UTF-8 JSON; app.models.CompressedJSON) and the database stores the bytes as they
are: on PostgreSQL with STORAGE EXTERNAL, because compressing them again gains nothing. The
same on SQLite, where the file shrinks by two thirds.

Existing rows are converted here, in batches, both ways: downgrading writes them back as JSON
(on PostgreSQL with lz4 again where 0002 set it). The codec is written out here rather than
imported from the app, so that this migration keeps doing what it did when the app changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson
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
    """A new column of ``new_type`` takes every row's converted result, then the old one goes."""
    old_type = JSON_TYPE if isinstance(new_type, sa.LargeBinary) else sa.LargeBinary()
    op.add_column("assessment", sa.Column("result_new", new_type, nullable=True))
    table = sa.table(
        "assessment",
        sa.column("id", sa.Uuid()),
        sa.column("result", old_type),
        sa.column("result_new", new_type),
    )
    bind = op.get_bind()
    rewrite = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values(result_new=sa.bindparam("value"))
    )
    last_id = None
    while True:
        query = sa.select(table.c.id, table.c.result).order_by(table.c.id).limit(BATCH)
        if last_id is not None:
            query = query.where(table.c.id > last_id)
        rows = bind.execute(query).all()
        if not rows:
            break
        bind.execute(rewrite, [{"row_id": row.id, "value": convert(row.result)} for row in rows])
        last_id = rows[-1].id
    # SQLite cannot drop or alter columns in place: the batch rebuilds the table there.
    with op.batch_alter_table("assessment") as batch:
        batch.drop_column("result")
        batch.alter_column(
            "result_new", new_column_name="result", existing_type=new_type, nullable=False
        )


def _compress(result: Any) -> bytes:
    try:
        text = orjson.dumps(result)
    except TypeError:  # a lone surrogate, an integer beyond 64 bits
        text = json.dumps(result).encode()
    # zstd's default level: smaller rows than the app's level 1, and time matters less here.
    return zstandard.ZstdCompressor(level=3).compress(text)


def _decompress(data: bytes) -> Any:
    text = zstandard.ZstdDecompressor().decompress(data)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _server_has_lz4(bind: sa.Connection) -> bool:
    offered = bind.execute(
        sa.text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
    ).scalar()
    return bool(offered)
