"""Database tables, all in one place. Services read and write these; routes never do directly.

Secrets that grant access (API keys, intake tokens, result links, sessions, set-password
links, staff invitations) are stored only as SHA-256 hashes: they are long random values, so a
fast hash is enough, and a leaked database does not leak access.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, MetaData, UniqueConstraint, Uuid
from sqlmodel import Column, Field, SQLModel

from .clock import system_clock
from .column_types import CompressedJSON, JSONType, UTCDateTime
from .engine import CheckinResult, Result

# Explicit constraint names, so migrations are the same on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

# The app's clock (app/clock.py), by the name the code has always used.
utcnow = system_clock


def _time(*, index: bool = False) -> Any:
    return Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=index)
    )


def _optional_time(*, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=index))


class Clinic(SQLModel, table=True):
    __tablename__ = "clinic"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = _time()
    # How patients reach the clinic: shown on intake pages and when a link no longer works.
    phone: str | None = Field(default=None, max_length=40)
    contact_email: str | None = Field(default=None, max_length=320)
    address: str | None = Field(default=None, max_length=500)
    # Staff pages show times in this zone (an IANA name).
    time_zone: str = Field(
        default="Europe/London", max_length=64, sa_column_kwargs={"server_default": "Europe/London"}
    )
    # Where an emergency or urgent submission is announced at once (no health details).
    alert_email: str | None = Field(default=None, max_length=320)
    webhook_url: str | None = Field(default=None, max_length=2000)
    # Signs each webhook body (HMAC-SHA256); the receiver holds the same secret, so it is
    # kept as it is, unlike the hashed secrets that only need to be recognised.
    webhook_secret: str | None = Field(default=None, max_length=100)
    # Clinicians must sign in with a second factor too (admins always must): set by an admin.
    require_2fa_for_clinicians: bool = Field(
        default=False, sa_column_kwargs={"server_default": "0"}
    )
    # The language the clinic's intake links open in (a BCP 47 tag, app/i18n.py) unless the
    # person chose another; None: the person's browser decides (Accept-Language).
    intake_language: str | None = Field(default=None, max_length=20)


class ApiClient(SQLModel, table=True):
    """An app that uses the JSON API. Only a hash of its key is kept."""

    __tablename__ = "api_client"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    clinic_id: uuid.UUID | None = Field(default=None, foreign_key="clinic.id", index=True)
    key_prefix: str = Field(max_length=16)  # shown in lists so people can tell keys apart
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _time()
    revoked_at: datetime | None = _optional_time()
    # What the key may do beyond reading (space-separated; app/services/api_keys.py SCOPES):
    # a clinic key writes check-ins of the clinic's submissions only with "checkins:write".
    scopes: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    clinic_id: uuid.UUID = Field(foreign_key="clinic.id", index=True)
    email: str = Field(max_length=320, unique=True)  # stored lower-case
    role: str = Field(max_length=20)  # admin | clinician
    password_hash: str | None = Field(default=None, max_length=255)  # Argon2id
    set_password_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    set_password_expires_at: datetime | None = _optional_time()
    created_at: datetime = _time()
    disabled_at: datetime | None = _optional_time()
    # The second factor (app/services/second_factor.py): the TOTP secret, encrypted with a key
    # made from SECRET_KEY (AES-GCM, bound to this account's id); set while enrolment is under
    # way, and in use once totp_enrolled_at is. totp_last_step: the time step of the last code
    # accepted, so no code is accepted twice.
    totp_secret: str | None = Field(default=None, max_length=200, repr=False)
    totp_enrolled_at: datetime | None = _optional_time()
    totp_last_step: int | None = None


class StaffInvitation(SQLModel, table=True):
    """An admin's invitation to join their clinic (app/services/invitations.py). The account is
    made only when the person accepts it, so inviting says nothing about whether the address
    has an account at another clinic. Only the SHA-256 hash of the link's token is kept."""

    __tablename__ = "staff_invitation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    clinic_id: uuid.UUID = Field(foreign_key="clinic.id", index=True)
    email: str = Field(max_length=320)  # stored lower-case, as StaffUser.email
    role: str = Field(max_length=20)  # admin | clinician
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = _time()
    invited_by_id: uuid.UUID | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = _time()
    accepted_at: datetime | None = _optional_time()
    revoked_at: datetime | None = _optional_time()


class StaffRecoveryCode(SQLModel, table=True):
    """A one-time code that stands in for the second factor (a lost phone). Only a SHA-256 hash
    is kept: the codes are 80 random bits, so a fast hash is enough, as for the other tokens."""

    __tablename__ = "staff_recovery_code"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="staff_user.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _time()
    used_at: datetime | None = _optional_time()


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_session"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: uuid.UUID = Field(foreign_key="staff_user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _time()
    expires_at: datetime = _time()  # the absolute limit, however busy the session is
    # The last request, to within a minute (it is written at most once a minute): a session
    # unused for the idle timeout ends (app/services/staff_sessions.py).
    last_seen_at: datetime = _time()


class LoginThrottle(SQLModel, table=True):
    """Sign-in attempts counted for one e-mail address, or for one client address, and when the
    next may be checked (app/services/login_throttle.py). The key is a hash: neither e-mail addresses nor
    client addresses are kept here."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    blocked_until: datetime | None = _optional_time()
    updated_at: datetime = _time(index=True)


class RateBucket(SQLModel, table=True):
    """One rate limit's bucket (app/services/rate_limits.py): for an API key, or for a client
    address (kept as a hash, as the sign-in counters are). ``full_at``: when the bucket is
    full again, in seconds since the epoch; a bucket full already is the same as no row."""

    __tablename__ = "rate_bucket"

    key: str = Field(primary_key=True, max_length=64)
    full_at: float = Field(index=True)


class IntakeLink(SQLModel, table=True):
    __tablename__ = "intake_link"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    clinic_id: uuid.UUID = Field(foreign_key="clinic.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    label: str | None = Field(default=None, max_length=200)  # patient reference: never logged
    single_use: bool = True
    expires_at: datetime = _time()
    revoked_at: datetime | None = _optional_time()
    used_at: datetime | None = _optional_time()
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = _time()


class Draft(SQLModel, table=True):
    """An interview in progress (web form or intake link), so a reload loses nothing."""

    __tablename__ = "draft"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    questionnaire_id: str = Field(max_length=100)
    answers: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    channel: str = Field(max_length=10)  # web | intake
    intake_link_id: uuid.UUID | None = Field(default=None, foreign_key="intake_link.id", index=True)
    created_at: datetime = _time()
    updated_at: datetime = _time(index=True)


class Assessment(SQLModel, table=True):
    """A finished (or early-stopped) assessment, from any channel."""

    __tablename__ = "assessment"
    __table_args__ = (
        UniqueConstraint("api_client_id", "idempotency_key", name="uq_assessment_idempotency"),
        Index("ix_assessment_clinic_queue", "clinic_id", "triage_rank", "created_at"),
        UniqueConstraint("clinic_id", "reference", name="uq_assessment_clinic_reference"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    questionnaire_id: str = Field(max_length=100)
    questionnaire_version: str = Field(max_length=40)
    answers: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    result: Result = Field(sa_column=Column(CompressedJSON(), nullable=False))
    triage_level: str = Field(max_length=20, index=True)
    triage_rank: int = 0  # 0 = most urgent; sorts the clinic queue
    complete: bool = True
    channel: str = Field(max_length=10, index=True)  # web | intake | api
    api_client_id: uuid.UUID | None = Field(default=None, foreign_key="api_client.id", index=True)
    clinic_id: uuid.UUID | None = Field(default=None, foreign_key="clinic.id", index=True)
    intake_link_id: uuid.UUID | None = Field(default=None, foreign_key="intake_link.id", index=True)
    # For the person's own result page (web and intake): a hash of the secret in their link.
    result_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = _time(index=True)
    updated_at: datetime = _time()
    reviewed_at: datetime | None = _optional_time()
    reviewed_by_id: uuid.UUID | None = Field(default=None, foreign_key="staff_user.id")
    # A short code the person can quote to their clinic (intake), unique within the clinic.
    reference: str | None = Field(default=None, max_length=20)
    # Given on a reusable ("poster") intake link, so the clinic can reach the person: a name,
    # and a phone number or booking reference. Never logged.
    patient_name: str | None = Field(default=None, max_length=200)
    patient_contact: str | None = Field(default=None, max_length=200)
    # A mis-tapped answer corrected after the result was stored: the new record replaces
    # this one in the queue; both are kept for the audit trail.
    replaced_by_id: uuid.UUID | None = Field(default=None, foreign_key="assessment.id", index=True)
    # A see_doctor result whose programme a clinician released after review (2.1): the person
    # answers the "before you exercise" questions, then gets the plan and check-ins.
    released_at: datetime | None = _optional_time()
    released_by_id: uuid.UUID | None = Field(default=None, foreign_key="staff_user.id")
    # The language the person used (a BCP 47 tag, app/i18n.py): what they are written to
    # later, and what staff see. Rows from before languages: "en".
    language: str = Field(default="en", max_length=20, sa_column_kwargs={"server_default": "en"})


class Checkin(SQLModel, table=True):
    """A follow-up of a self-care assessment: the warning signs again, pain and function (PEG),
    and how each exercise block went. Its result holds the plan from then on."""

    __tablename__ = "checkin"
    __table_args__ = (
        # Per API key: two apps that use the same Idempotency-Key never meet.
        UniqueConstraint(
            "assessment_id", "api_client_id", "idempotency_key", name="uq_checkin_idempotency"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    questionnaire_id: str = Field(max_length=100)
    questionnaire_version: str = Field(max_length=40)
    answers: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    result: CheckinResult = Field(sa_column=Column(CompressedJSON(), nullable=False))
    triage_level: str = Field(max_length=20, index=True)
    triage_rank: int = 0
    channel: str = Field(max_length=10)  # web | intake | api
    api_client_id: uuid.UUID | None = Field(default=None, foreign_key="api_client.id")
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = _time(index=True)
    # The language the person used (a BCP 47 tag, app/i18n.py): what they are written to
    # later, and what staff see. Rows from before languages: "en".
    language: str = Field(default="en", max_length=20, sa_column_kwargs={"server_default": "en"})


class ResultPdf(SQLModel, table=True):
    """A result's PDF, kept so that it is made once (app/services/result_pdfs.py). Keyed by the
    SHA-256 of the page it was made from: a correction, check-in or release changes the page,
    so a stale PDF is never served. Only the latest per assessment; erased with it."""

    __tablename__ = "result_pdf"

    assessment_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True)
    )
    html_sha256: str = Field(max_length=64)
    pdf: bytes = Field(sa_column=Column(LargeBinary(), nullable=False), repr=False)
    created_at: datetime = _time()


class ResultContact(SQLModel, table=True):
    """The e-mail address a person gave on their result page (app/services/keep.py): for the
    one e-mail with their result link they asked for, and, only if they agreed, for reminders
    when a check-in is due. Deleted with the result, or when they unsubscribe. Never logged.

    An outbox of two messages: ``link_due_at`` while the link e-mail waits to be sent (the
    link's secret waits with it, sealed with a key made from SECRET_KEY, and is erased once it
    is sent or given up), ``remind_at`` the next check-in's due date while reminders are on."""

    __tablename__ = "result_contact"

    assessment_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True)
    )
    email: str = Field(max_length=320, repr=False)
    reminders: bool = False
    # Names the row in the unsubscribe link, which also carries an HMAC of it (SECRET_KEY):
    # the link works without signing in, and this column alone unsubscribes nobody.
    unsubscribe_id: str = Field(max_length=32, unique=True)
    link_sealed: str | None = Field(default=None, max_length=200, repr=False)
    link_due_at: datetime | None = _optional_time(index=True)
    link_attempts: int = 0
    remind_at: datetime | None = _optional_time(index=True)
    reminder_attempts: int = 0
    created_at: datetime = _time()
    # The language the e-mails are written in: the person's when they gave the address.
    language: str = Field(default="en", max_length=20, sa_column_kwargs={"server_default": "en"})


class SubmissionSeen(SQLModel, table=True):
    """What a staff member last saw of a submission: how many of its check-ins its page showed
    them, and when. A review covers those and no more (app/services/queue.py), whatever
    the browser sends."""

    __tablename__ = "submission_seen"

    staff_user_id: uuid.UUID = Field(foreign_key="staff_user.id", primary_key=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", primary_key=True, index=True)
    checkins_seen: int = 0
    seen_at: datetime = _time()


class Alert(SQLModel, table=True):
    """A message to a clinic that an emergency or urgent submission (or check-in) arrived:
    written in its own transaction (so it cannot be lost) and sent afterwards, with retries."""

    __tablename__ = "alert"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    clinic_id: uuid.UUID = Field(foreign_key="clinic.id", index=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessment.id", index=True)
    # A follow-up check-in of that submission at an urgent level; None for the submission.
    checkin_id: uuid.UUID | None = Field(default=None, foreign_key="checkin.id", index=True)
    kind: str = Field(max_length=10)  # email | webhook
    status: str = Field(default="pending", max_length=10, index=True)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = _time(index=True)
    created_at: datetime = _time()
    sent_at: datetime | None = _optional_time()


class AlertAttempt(SQLModel, table=True):
    """Every try at sending an alert, kept: what happened, never what the submission said."""

    __tablename__ = "alert_attempt"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    alert_id: uuid.UUID = Field(foreign_key="alert.id", index=True)
    attempted_at: datetime = _time()
    ok: bool = False
    detail: str = Field(default="", max_length=500)  # e.g. "HTTP 502" or the SMTP error


class AuditEvent(SQLModel, table=True):
    """Who viewed, exported or changed what, and when. Never holds answers."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: uuid.UUID = Field(foreign_key="clinic.id", index=True)
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="staff_user.id")
    action: str = Field(max_length=50)  # e.g. assessment.viewed, link.created, export.csv
    target_type: str | None = Field(default=None, max_length=50)
    target_id: str | None = Field(default=None, max_length=100)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    created_at: datetime = _time(index=True)


__all__ = [
    "Alert",
    "AlertAttempt",
    "ApiClient",
    "Assessment",
    "AuditEvent",
    "Checkin",
    "Clinic",
    "Draft",
    "IntakeLink",
    "LoginThrottle",
    "ResultContact",
    "StaffSession",
    "StaffUser",
    "SubmissionSeen",
    "metadata",
    "utcnow",
]
