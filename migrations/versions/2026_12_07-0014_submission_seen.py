"""submission_seen: what each staff member last saw of a submission

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:00:00

Hardening, second pass (audit): a review covers the check-ins the reviewer's page showed. The
page used to send their number back with the review, so a browser could send any number;
now the server keeps it, per staff member and submission, each time the page is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submission_seen",
        sa.Column("staff_user_id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("checkins_seen", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_submission_seen_assessment_id_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_submission_seen_staff_user_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("staff_user_id", "assessment_id", name=op.f("pk_submission_seen")),
    )
    with op.batch_alter_table("submission_seen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_seen_assessment_id"), ["assessment_id"])


def downgrade() -> None:
    with op.batch_alter_table("submission_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_seen_assessment_id"))
    op.drop_table("submission_seen")
