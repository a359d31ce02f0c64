"""Staff invitations: an admin invites an address to their clinic, and the account is made when
the person accepts, from the link.

Addresses are unique across clinics, so refusing an address that has an account would tell an
admin that it has one somewhere. Inviting therefore never looks beyond the admin's own clinic:
every well-formed address that is not a member here is invited the same way. Whether the
address is still free is asked only when the link is used; a link that cannot be used (the
address has an account by now, or the invitation expired, was revoked or was accepted) is
one case, told one way. The link's token is kept only as a SHA-256 hash, like a set-password
link's, and lasts as long.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Final

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.config import Settings
from app.models import Clinic, StaffInvitation, StaffUser
from app.security import hash_token, new_token
from app.services import accounts, audit, mail
from app.services.accounts import AccountError
from app.services.text import one_line

logger = logging.getLogger("backaudit.invitations")

LIFETIME: Final = accounts.SET_PASSWORD_LIFETIME
PATH: Final = "/staff/invitation"


class AlreadyMemberError(AccountError):
    """The address is a member of this clinic already (the admin sees their own list)."""


@dataclass(frozen=True)
class Invited:
    invitation: StaffInvitation
    token: str  # for the link; never stored


def link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{PATH}/{token}"


def invite(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    invited_by: uuid.UUID,
    email: str,
    role: str,
    now: datetime,
) -> Invited:
    """A new invitation (its event: clinic_admin.invite_member). A pending invitation of the
    same address here is revoked: one link works at a time. Raises AccountError for an address
    or role that cannot be, AlreadyMemberError for a member of this clinic."""
    email = accounts.normalise_email(email)
    if problem := accounts.email_problem(email) or accounts.role_problem(role):
        raise AccountError(problem)
    member = select(StaffUser.id).where(StaffUser.clinic_id == clinic_id, StaffUser.email == email)
    if session.exec(member).first() is not None:
        raise AlreadyMemberError("This person is already a member of this clinic")
    session.exec(
        update(StaffInvitation)
        .where(
            col(StaffInvitation.clinic_id) == clinic_id,
            col(StaffInvitation.email) == email,
            col(StaffInvitation.accepted_at).is_(None),
            col(StaffInvitation.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    token = new_token(32)
    invitation = StaffInvitation(
        clinic_id=clinic_id,
        email=email,
        role=role,
        token_hash=hash_token(token),
        expires_at=now + LIFETIME,
        invited_by_id=invited_by,
        created_at=now,
    )
    session.add(invitation)
    session.flush()
    return Invited(invitation, token)


def _pending(clinic_id: uuid.UUID, now: datetime) -> SelectOfScalar[StaffInvitation]:
    return select(StaffInvitation).where(
        StaffInvitation.clinic_id == clinic_id,
        col(StaffInvitation.accepted_at).is_(None),
        col(StaffInvitation.revoked_at).is_(None),
        StaffInvitation.expires_at > now,
    )


def pending(session: Session, *, clinic_id: uuid.UUID, now: datetime) -> list[StaffInvitation]:
    """The clinic's invitations that can still be accepted (as far as the clinic knows)."""
    query = _pending(clinic_id, now).order_by(col(StaffInvitation.email))
    return list(session.exec(query).all())


def get_pending(
    session: Session, *, clinic_id: uuid.UUID, invitation_id: str, now: datetime
) -> StaffInvitation | None:
    """One of this clinic's pending invitations, or None (another clinic's do not exist here)."""
    try:
        wanted = uuid.UUID(invitation_id)
    except ValueError:
        return None
    query = _pending(clinic_id, now).where(StaffInvitation.id == wanted)
    return session.exec(query).first()


def revoke(session: Session, invitation: StaffInvitation, *, now: datetime) -> None:
    invitation.revoked_at = now
    session.add(invitation)
    session.flush()


def _open(session: Session, token: str, *, now: datetime) -> StaffInvitation | None:
    invitation = session.exec(
        select(StaffInvitation).where(StaffInvitation.token_hash == hash_token(token))
    ).first()
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
    ):
        return None
    return invitation


@dataclass(frozen=True)
class Offer:
    """What the person opening a usable link is shown."""

    email: str
    role: str
    clinic_name: str


def usable(session: Session, token: str, *, now: datetime) -> Offer | None:
    """What this link's invitation offers, if it can be accepted now: pending, and its address
    still has no account anywhere. None in every other case, alike."""
    invitation = _open(session, token, now=now)
    if invitation is None or accounts.email_in_use(session, invitation.email):
        return None
    clinic = session.get_one(Clinic, invitation.clinic_id)
    return Offer(invitation.email, invitation.role, clinic.name)


def accept(
    session: Session, token: str, *, password: str, password_hash: str, now: datetime
) -> StaffUser | None:
    """The account, made in the invitation's clinic with its role and this password; and the
    ``staff.invitation_accepted`` event. None if the invitation cannot be used (``usable``).
    ``password_hash``: hash_password(password), made away from the event loop."""
    invitation = _open(session, token, now=now)
    if invitation is None:
        return None
    # Claimed with a condition, so two tries at once cannot both accept it (the second waits
    # for the first's row lock, then finds it accepted). The address is looked at after the
    # claim: an account made meanwhile elsewhere is seen, and the claim undone.
    claimed = session.exec(
        update(StaffInvitation)
        .where(
            col(StaffInvitation.id) == invitation.id,
            col(StaffInvitation.accepted_at).is_(None),
            col(StaffInvitation.revoked_at).is_(None),
        )
        .values(accepted_at=now)
    )
    if claimed.rowcount != 1:
        return None
    if accounts.email_in_use(session, invitation.email):
        invitation.accepted_at = None  # it stays pending: nothing tells the clinic why
        session.add(invitation)
        session.flush()
        return None
    try:
        # Another clinic's invitation for the same address, accepted at the same moment: one
        # account, made by whichever comes first; the other finds the address taken (the
        # check, or on PostgreSQL the unique constraint) and is an unusable invitation.
        with session.begin_nested():
            user, _ = accounts.create_user(
                session,
                clinic_id=invitation.clinic_id,
                email=invitation.email,
                role=invitation.role,
                password=password,
                password_hash=password_hash,
            )
    except (IntegrityError, accounts.EmailInUseError):
        invitation.accepted_at = None
        session.add(invitation)
        session.flush()
        return None
    audit.record(
        session,
        clinic_id=invitation.clinic_id,
        actor_id=user.id,
        action="staff.invitation_accepted",
        target_type="staff_invitation",
        target_id=invitation.id,
        detail={"staff_user_id": str(user.id), "role": user.role},
    )
    return user


def email_message(
    invited: Invited, *, clinic_name: str, sender: str, public_url: str, now: datetime
) -> EmailMessage:
    """The invitation e-mail, with the link: it goes to the address, and only there."""
    invitation = invited.invitation
    clinic_name = one_line(clinic_name)  # a line break in a header makes it unsendable
    message = mail.new_message(
        subject=f"You are invited to join {clinic_name} on backaudit",
        sender=sender,
        to=invitation.email,
        now=now,
    )
    hours = int(LIFETIME.total_seconds() // 3600)
    message.set_content(
        f"An admin at {clinic_name} has invited you to join its staff on backaudit,"
        f" as {invitation.role}.\n"
        "\n"
        "Choose a password here to accept:\n"
        f"{link(public_url, invited.token)}\n"
        "\n"
        f"The link works once, for {hours} hours. If you did not expect this invitation,"
        " you can ignore this e-mail.\n"
    )
    return message


def send_by_email(settings: Settings, invited: Invited, *, clinic_name: str, now: datetime) -> bool:
    """Send the invitation to its address (SMTP, as clinic alerts go); whether the mail server
    took it. Blocking: in a worker thread. What went wrong goes to the server's log only."""
    message = email_message(
        invited,
        clinic_name=clinic_name,
        sender=settings.alert_sender,
        public_url=settings.public_url,
        now=now,
    )
    try:
        mail.send(settings, message)
    except Exception as error:  # the network's, smtplib's or the server's refusal: the same
        logger.warning(
            "invitation %s: e-mail not sent (%s)", invited.invitation.id, type(error).__name__
        )
        return False
    return True
