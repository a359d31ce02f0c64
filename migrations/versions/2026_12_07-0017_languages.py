"""languages: the person's language on assessments, check-ins and result contacts, and a
clinic's intake links' language

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 16:00:00

Languages (issue 27): a person's e-mails, sent later by the outbox worker, are written in the
language they used, and staff see which it was. Rows from before are English ("en"). A clinic
may set the language its intake links open in (NULL: the person's browser decides).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("assessment", "checkin", "result_contact")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            # A constant default, so that SQLite adds the column in place (as 0009 does): a
            # table copy would have to drop "assessment", which other tables refer to.
            batch_op.add_column(
                sa.Column("language", sa.String(length=20), nullable=False, server_default="en")
            )
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intake_language", sa.String(length=20), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), not by copying the tables (0009 says why).
    op.drop_column("clinic", "intake_language")
    for table in reversed(TABLES):
        op.drop_column(table, "language")
