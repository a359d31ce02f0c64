"""staff second factor (TOTP and recovery codes), the session's last request, and the clinic's
"clinicians must use a second factor"

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:00:00

Hardening, second pass (sign-in): staff sign in with a code from an authenticator app after
their password (admins always; clinicians when their clinic says so), or with one of ten
single-use recovery codes, kept as SHA-256 hashes. staff_user.totp_secret holds the TOTP
secret encrypted (AES-GCM, with a key made from SECRET_KEY); totp_last_step the time step of the
last code accepted, so that none is accepted twice. A session unused for 30 minutes ends:
staff_session.last_seen_at, which starts as the session's creation time for the sessions open
now.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        # A constant default (a string), so that SQLite adds the column in place: a table
        # copy would have to drop "clinic", which every other table refers to.
        batch_op.add_column(
            sa.Column(
                "require_2fa_for_clinicians", sa.Boolean(), nullable=False, server_default="0"
            )
        )
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("totp_enrolled_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "staff_recovery_code",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_staff_recovery_code_user_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_staff_recovery_code_code_hash")),
    )
    with op.batch_alter_table("staff_recovery_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_recovery_code_user_id"), ["user_id"], unique=False
        )
    # The sessions open now were last seen, as far as anyone knows, when they began.
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE staff_session SET last_seen_at = created_at")
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.alter_column(
            "last_seen_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    # Columns dropped in place (SQLite 3.35+ can), not by copying the tables as batch mode
    # would: "clinic" and "staff_user" are referred to by other tables, so a copy would have to
    # drop them, which SQLite refuses once they hold rows.
    op.drop_column("staff_session", "last_seen_at")
    with op.batch_alter_table("staff_recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_recovery_code_user_id"))
    op.drop_table("staff_recovery_code")
    for column in ("totp_last_step", "totp_enrolled_at", "totp_secret"):
        op.drop_column("staff_user", column)
    op.drop_column("clinic", "require_2fa_for_clinicians")
