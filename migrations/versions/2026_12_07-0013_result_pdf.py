"""result_pdf: each result's PDF, made once and kept

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 14:00:00

Hardening, second pass (the PDF): a result's PDF took ~4.5 CPU-seconds every time it was asked
for. It is now kept, keyed by the SHA-256 of the page it was made from (a correction, check-in
or release changes the page, so it is made again); one row per assessment, the latest, erased
with it (ON DELETE CASCADE).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "result_pdf",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("html_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_result_pdf_assessment_id_assessment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_result_pdf")),
    )


def downgrade() -> None:
    op.drop_table("result_pdf")
