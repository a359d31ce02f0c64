"""alert.checkin_id: an alert for a check-in that found a warning sign

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 10:00:00

A clinic is alerted when a patient's follow-up check-in is at an urgent level, as it is for a
submission (issue 17). The alert names the check-in; its level and time are the check-in's.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkin_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_alert_checkin_id_checkin"), "checkin", ["checkin_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_alert_checkin_id"), ["checkin_id"])


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_checkin_id"))
        batch_op.drop_constraint(batch_op.f("fk_alert_checkin_id_checkin"), type_="foreignkey")
        batch_op.drop_column("checkin_id")
