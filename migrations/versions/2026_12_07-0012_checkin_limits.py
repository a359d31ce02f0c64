"""api_client.scopes, and check-in idempotency keys scoped to the API key

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00

Issue 23, check-ins under abuse: a clinic key reads the clinic's submissions but writes check-ins
only with the ``checkins:write`` scope (space-separated scopes, none by default); and a retried
check-in is recognised by (assessment, API key, Idempotency-Key), so two apps that happen to use
the same key never collide or see each other's check-in.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scopes", sa.String(length=200), nullable=False, server_default="")
        )
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_constraint("uq_checkin_idempotency", type_="unique")
        batch_op.create_unique_constraint(
            "uq_checkin_idempotency", ["assessment_id", "api_client_id", "idempotency_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_constraint("uq_checkin_idempotency", type_="unique")
        batch_op.create_unique_constraint(
            "uq_checkin_idempotency", ["assessment_id", "idempotency_key"]
        )
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.drop_column("scopes")
