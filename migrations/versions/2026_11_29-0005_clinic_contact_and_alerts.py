"""Clinic contact details, time zone and alert settings; intake reference and contact; alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 07:00:00

For "what to do first" (issue 16): a clinic's phone, e-mail and address for its patients, the
time zone its staff read times in, and where emergency and urgent submissions are announced
(an e-mail address, a signed webhook). A submission gets a short reference to quote, the name
and contact a reusable link asks for, and, when a mis-tapped answer is corrected, the record
that replaced it. Alerts are an outbox: written with the submission, sent afterwards, every
attempt kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sa.String


def upgrade() -> None:
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", _TEXT(length=40), nullable=True))
        batch_op.add_column(sa.Column("contact_email", _TEXT(length=320), nullable=True))
        batch_op.add_column(sa.Column("address", _TEXT(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("time_zone", _TEXT(length=64), nullable=False, server_default="Europe/London")
        )
        batch_op.add_column(sa.Column("alert_email", _TEXT(length=320), nullable=True))
        batch_op.add_column(sa.Column("webhook_url", _TEXT(length=2000), nullable=True))
        batch_op.add_column(sa.Column("webhook_secret", _TEXT(length=100), nullable=True))
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", _TEXT(length=20), nullable=True))
        batch_op.add_column(sa.Column("patient_name", _TEXT(length=200), nullable=True))
        batch_op.add_column(sa.Column("patient_contact", _TEXT(length=200), nullable=True))
        batch_op.add_column(sa.Column("replaced_by_id", sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_assessment_clinic_reference", ["clinic_id", "reference"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_assessment_replaced_by_id_assessment"),
            "assessment",
            ["replaced_by_id"],
            ["id"],
        )
    op.create_table(
        "alert",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("kind", _TEXT(length=10), nullable=False),
        sa.Column("status", _TEXT(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"], name=op.f("fk_alert_assessment_id_assessment")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_alert_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_assessment_id"), ["assessment_id"])
        batch_op.create_index(batch_op.f("ix_alert_clinic_id"), ["clinic_id"])
        batch_op.create_index(batch_op.f("ix_alert_next_attempt_at"), ["next_attempt_at"])
        batch_op.create_index(batch_op.f("ix_alert_status"), ["status"])
    op.create_table(
        "alert_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", _TEXT(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_attempt_alert_id_alert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_attempt")),
    )
    with op.batch_alter_table("alert_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_attempt_alert_id"), ["alert_id"])


def downgrade() -> None:
    with op.batch_alter_table("alert_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_attempt_alert_id"))
    op.drop_table("alert_attempt")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_status"))
        batch_op.drop_index(batch_op.f("ix_alert_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_alert_clinic_id"))
        batch_op.drop_index(batch_op.f("ix_alert_assessment_id"))
    op.drop_table("alert")
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_assessment_replaced_by_id_assessment"), type_="foreignkey"
        )
        batch_op.drop_constraint("uq_assessment_clinic_reference", type_="unique")
        batch_op.drop_column("replaced_by_id")
        batch_op.drop_column("patient_contact")
        batch_op.drop_column("patient_name")
        batch_op.drop_column("reference")
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        for column in (
            "webhook_secret", "webhook_url", "alert_email", "time_zone", "address",
            "contact_email", "phone",
        ):  # fmt: skip
            batch_op.drop_column(column)
