"""rate_bucket: the rate limits' buckets, one row per API key or client address

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 09:00:00

Each row says when its bucket is full again (seconds since the epoch); a request takes from it
in one statement (app/services/rate_limits.py). Keys are hashes: no client address is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_bucket",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("full_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_bucket")),
    )
    with op.batch_alter_table("rate_bucket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_bucket_full_at"), ["full_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rate_bucket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_bucket_full_at"))
    op.drop_table("rate_bucket")
