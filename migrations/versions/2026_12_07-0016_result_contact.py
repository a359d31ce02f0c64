"""result_contact: the address a person gave to keep their result and be reminded

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-14 10:00:00

Pages, second pass (issue 26, "keep your result"): on their result page a person may have
their result link sent to an e-mail address and, if they agree, be reminded there when a
check-in is due. One row per result, deleted with it (ON DELETE CASCADE) or on unsubscribing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "result_contact",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("reminders", sa.Boolean(), nullable=False),
        sa.Column("unsubscribe_id", sa.String(length=32), nullable=False),
        sa.Column("link_sealed", sa.String(length=200), nullable=True),
        sa.Column("link_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_attempts", sa.Integer(), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_result_contact_assessment_id_assessment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_result_contact")),
        sa.UniqueConstraint("unsubscribe_id", name=op.f("uq_result_contact_unsubscribe_id")),
    )
    with op.batch_alter_table("result_contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_contact_link_due_at"), ["link_due_at"])
        batch_op.create_index(batch_op.f("ix_result_contact_remind_at"), ["remind_at"])


def downgrade() -> None:
    with op.batch_alter_table("result_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_result_contact_remind_at"))
        batch_op.drop_index(batch_op.f("ix_result_contact_link_due_at"))
    op.drop_table("result_contact")
