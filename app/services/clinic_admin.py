"""What a clinic's admins change: its members, its details and second-factor rule, its API
keys and its alert channels. Each is one call that writes its audit event beside the change,
in the same transaction (audit.Actor), so no change lands without its event. (The command
line, which has no signed-in actor, calls the plain services.)"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel import Session

from app.models import ApiClient, Clinic
from app.services import (
    accounts,
    alert_settings,
    api_keys,
    clinics,
    invitations,
    second_factor,
)
from app.services.accounts import AccountError
from app.services.audit import Actor, record_by
from app.services.webhook_addresses import Network


@dataclass(frozen=True, slots=True)
class Done:
    pass


@dataclass(frozen=True, slots=True)
class NotFound:
    """No such member or key in the admin's clinic (another clinic's do not exist here)."""


@dataclass(frozen=True, slots=True)
class Refused:
    message: str  # safe to show


Outcome = Done | NotFound | Refused
DONE: Final = Done()
NOT_FOUND: Final = NotFound()

# -- members --------------------------------------------------------------------------------------


def invite_member(
    session: Session, by: Actor, *, email: str, role: str, now: datetime
) -> invitations.Invited:
    """An invitation to the admin's clinic and its link's token (AccountError if the address
    or role cannot be, or the address is a member here). The event has the same shape for
    every address: it says nothing about other clinics."""
    invited = invitations.invite(
        session, clinic_id=by.clinic_id, invited_by=by.user_id, email=email, role=role, now=now
    )
    record_by(
        session,
        by,
        "staff.invited",
        target_type="staff_invitation",
        target_id=invited.invitation.id,
        detail={"role": invited.invitation.role},
    )
    return invited


def revoke_invitation(
    session: Session, by: Actor, invitation_id: str, *, now: datetime, why: str | None = None
) -> Outcome:
    """``why``: when the app withdrew it for the admin (an e-mail the mail server refused)."""
    invitation = invitations.get_pending(
        session, clinic_id=by.clinic_id, invitation_id=invitation_id, now=now
    )
    if invitation is None:
        return NOT_FOUND
    invitations.revoke(session, invitation, now=now)
    record_by(
        session,
        by,
        "staff.invitation_revoked",
        target_type="staff_invitation",
        target_id=invitation.id,
        detail={"why": why} if why else None,
    )
    return DONE


def change_role(session: Session, by: Actor, user_id: str, role: str) -> Outcome:
    member = accounts.get_clinic_staff(session, clinic_id=by.clinic_id, user_id=user_id)
    if member is None:
        return NOT_FOUND
    if member.id == by.user_id:
        return Refused("You cannot change your own role")
    try:
        accounts.change_role(session, member, role)
    except AccountError as error:
        return Refused(str(error))
    record_by(
        session,
        by,
        "staff.role_changed",
        target_type="staff_user",
        target_id=member.id,
        detail={"role": role},
    )
    return DONE


def disable_member(session: Session, by: Actor, user_id: str) -> Outcome:
    member = accounts.get_clinic_staff(session, clinic_id=by.clinic_id, user_id=user_id)
    if member is None:
        return NOT_FOUND
    if member.id == by.user_id:
        return Refused("You cannot disable your own account")
    accounts.disable(session, member)
    record_by(session, by, "staff.disabled", target_type="staff_user", target_id=member.id)
    return DONE


def reset_second_factor(session: Session, by: Actor, user_id: str) -> Outcome:
    """A member who lost their phone and their recovery codes: their second factor and
    sessions go, and they set it up again at their next sign-in (if they must have one)."""
    member = accounts.get_clinic_staff(session, clinic_id=by.clinic_id, user_id=user_id)
    if member is None:
        return NOT_FOUND
    if member.id == by.user_id:
        return Refused("Set up a new app for yourself on your Second factor page")
    second_factor.reset(session, member)
    record_by(session, by, "staff.2fa_reset", target_type="staff_user", target_id=member.id)
    return DONE


# -- the clinic -----------------------------------------------------------------------------------


def save_details(
    session: Session, by: Actor, clinic: Clinic, details: clinics.ClinicDetails
) -> None:
    """Valid details stored (ValueError otherwise); the names of the fields that changed go in
    the log, never their values."""
    if changed := clinics.update_details(session, clinic, details):
        record_by(
            session,
            by,
            "clinic.updated",
            target_type="clinic",
            target_id=clinic.id,
            detail={"fields": changed},
        )


def set_second_factor_rule(session: Session, by: Actor, clinic: Clinic, required: bool) -> None:
    """Whether clinicians must sign in with a second factor too (admins always must)."""
    if second_factor.set_required_for_clinicians(session, clinic, required):
        record_by(
            session,
            by,
            "clinic.2fa_rule_changed",
            target_type="clinic",
            target_id=clinic.id,
            detail={"clinicians_must_use_2fa": required},
        )


def set_intake_language(
    session: Session, by: Actor, clinic: Clinic, language: str | None, offered: Collection[str]
) -> Outcome:
    """The language the clinic's intake links open in, unless the person chooses another;
    None: the person's browser decides. Refused unless it is one the app offers now (a draft
    language only where drafts are offered)."""
    if language is not None and language not in offered:
        return Refused("Choose one of the languages listed")
    if clinic.intake_language != language:
        clinic.intake_language = language
        session.add(clinic)
        session.flush()
        record_by(
            session,
            by,
            "clinic.intake_language_changed",
            target_type="clinic",
            target_id=clinic.id,
            detail={"language": language},
        )
    return DONE


# -- API keys -------------------------------------------------------------------------------------


def create_api_key(
    session: Session, by: Actor, *, name: str, scopes: Sequence[str]
) -> tuple[ApiClient, str]:
    client, key = api_keys.create_api_key(session, name=name, clinic_id=by.clinic_id, scopes=scopes)
    record_by(
        session,
        by,
        "api_key.created",
        target_type="api_client",
        target_id=client.id,
        detail={"prefix": client.key_prefix, "scopes": client.scopes},
    )
    return client, key


def revoke_api_key(session: Session, by: Actor, key_id: str) -> Outcome:
    client = api_keys.get_clinic_api_key(session, clinic_id=by.clinic_id, key_id=key_id)
    if client is None:
        return NOT_FOUND
    api_keys.revoke_api_key(session, prefix_or_id=str(client.id))
    record_by(
        session,
        by,
        "api_key.revoked",
        target_type="api_client",
        target_id=client.id,
        detail={"prefix": client.key_prefix},
    )
    return DONE


# -- alerts ---------------------------------------------------------------------------------------
# The log says whether alerts go by e-mail or webhook, not the address: the alerts page shows
# who set what, and when.


def set_alert_email(session: Session, by: Actor, clinic: Clinic, email: str) -> None:
    alert_settings.set_alert_email(session, clinic, email)
    record_by(session, by, "alerts.email_set" if email.strip() else "alerts.email_removed")


def set_webhook(
    session: Session,
    by: Actor,
    clinic: Clinic,
    url: str,
    *,
    allow_http: bool,
    allowed_networks: Sequence[Network],
) -> str | None:
    """The new webhook's signing secret (None when the webhook is removed)."""
    secret = alert_settings.set_webhook(
        session, clinic, url, allow_http=allow_http, allowed_networks=allowed_networks
    )
    record_by(session, by, "alerts.webhook_set" if url.strip() else "alerts.webhook_removed")
    return secret


def rotate_webhook_secret(session: Session, by: Actor, clinic: Clinic) -> str:
    secret = alert_settings.rotate_webhook_secret(session, clinic)
    record_by(session, by, "alerts.webhook_secret_rotated")
    return secret
