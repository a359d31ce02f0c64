"""assessment.released_at and released_by_id: a clinician released the programme after review

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 09:00:00

Questionnaire 2.1.0: clinic staff may release the exercise programme on a see_doctor submission
(never urgent or emergency). The person then answers the "before you exercise" questions at
their private link and gets the plan; check-ins start from the release.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("released_by_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_assessment_released_by_id_staff_user"),
            "staff_user",
            ["released_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_assessment_released_by_id_staff_user"), type_="foreignkey"
        )
        batch_op.drop_column("released_by_id")
        batch_op.drop_column("released_at")
