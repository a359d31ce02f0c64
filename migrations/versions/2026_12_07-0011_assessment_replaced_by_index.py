"""an index on assessment.replaced_by_id: a correction's line is read backwards

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00

A correction's line (app/services/assessments.py, one recursive query) is followed from the
newest record back to the first, by replaced_by_id: for the result page, the staff pages and
erasing a result with everything it replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_replaced_by_id"), ["replaced_by_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_replaced_by_id"))
