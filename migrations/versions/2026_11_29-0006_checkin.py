"""checkin: follow-ups of a self-care assessment

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 08:00:00

One row per check-in (issue 17), linked to the assessment it follows; its result holds the
plan from then on. Retried API posts are told apart by (assessment, Idempotency-Key).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkin",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("questionnaire_id", sa.String(length=100), nullable=False),
        sa.Column("questionnaire_version", sa.String(length=40), nullable=False),
        sa.Column(
            "answers", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("result", sa.LargeBinary(), nullable=False),
        sa.Column("triage_level", sa.String(length=20), nullable=False),
        sa.Column("triage_rank", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("api_client_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_client_id"], ["api_client.id"], name=op.f("fk_checkin_api_client_id_api_client")
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"], name=op.f("fk_checkin_assessment_id_assessment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin")),
        sa.UniqueConstraint("assessment_id", "idempotency_key", name="uq_checkin_idempotency"),
    )
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkin_assessment_id"), ["assessment_id"])
        batch_op.create_index(batch_op.f("ix_checkin_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_checkin_triage_level"), ["triage_level"])


def downgrade() -> None:
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_triage_level"))
        batch_op.drop_index(batch_op.f("ix_checkin_created_at"))
        batch_op.drop_index(batch_op.f("ix_checkin_assessment_id"))
    op.drop_table("checkin")
