"""`backaudit clinic ...` and `backaudit user ...`: how a clinic gets started."""

from __future__ import annotations

import argparse
import getpass
import sys
import warnings
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any, Final

from sqlmodel import Session

from app.config import get_settings
from app.migrate import command_session
from app.models import Clinic
from app.services import accounts as auth_service
from app.services import alert_settings, audit, clinics, second_factor

from .exits import EXIT_OK, EXIT_PROBLEM


def register(sub: Any) -> None:
    clinic = sub.add_parser("clinic", help="clinics").add_subparsers(
        title="clinic commands", metavar="ACTION"
    )
    p = clinic.add_parser("create", help="create a clinic; prints its id")
    p.add_argument("name")
    _detail_options(p)
    p.set_defaults(handler=cmd_clinic_create)
    p = clinic.add_parser(
        "update", help="change a clinic's contact details or time zone (the options given)"
    )
    p.add_argument("clinic", help="clinic id, or its exact name")
    _detail_options(p)
    p.set_defaults(handler=cmd_clinic_update)
    p = clinic.add_parser("list", help="list clinics")
    p.set_defaults(handler=cmd_clinic_list)
    p = clinic.add_parser(
        "alerts",
        help="where emergency and urgent submissions are announced; prints the settings",
    )
    p.add_argument("clinic", help="clinic id, or its exact name")
    p.add_argument("--email", help="the alert e-mail address ('' for none)")
    p.add_argument("--webhook-url", help="the webhook address ('' for none)")
    p.add_argument(
        "--new-webhook-secret",
        action="store_true",
        help="make a new signing secret for the webhook (printed once)",
    )
    p.set_defaults(handler=cmd_clinic_alerts)

    user = sub.add_parser("user", help="staff accounts").add_subparsers(
        title="user commands", metavar="ACTION"
    )
    p = user.add_parser("create", help="create a staff account for a clinic")
    p.add_argument("--clinic", required=True, help="clinic id, or its exact name")
    p.add_argument("--email", required=True)
    p.add_argument("--role", choices=auth_service.ROLES, default="clinician")
    p.add_argument(
        "--no-password",
        action="store_true",
        help="do not ask for a password: print a one-time link to set it (72 h)",
    )
    p.set_defaults(handler=cmd_user_create)
    p = user.add_parser(
        "reset-2fa",
        help="remove a staff member's second factor and recovery codes, and sign them out"
        " (they set it up again at their next sign-in if they must have one)",
    )
    p.add_argument("email")
    p.set_defaults(handler=cmd_user_reset_2fa)


def _detail_options(p: Any) -> None:
    p.add_argument("--phone", help="phone number patients can call")
    p.add_argument("--email", dest="contact_email", help="e-mail address for patients")
    p.add_argument("--address", help="postal address (use \\n for a new line)")
    p.add_argument(
        "--time-zone",
        help=f"IANA time zone for staff pages and the CSV (default {clinics.DEFAULT_TIME_ZONE})",
    )


def _details(args: argparse.Namespace, clinic: Clinic) -> clinics.ClinicDetails:
    """The clinic's details with the options given put in."""
    now = clinics.ClinicDetails.of(clinic)
    given = {
        name: getattr(args, name).replace("\\n", "\n")
        for name in ("phone", "contact_email", "address", "time_zone")
        if getattr(args, name) is not None
    }
    return replace(now, **given)


def _detail_problems(details: clinics.ClinicDetails, done: str) -> bool:
    """Print each problem with its option's name; True if there were any."""
    problems = clinics.details_problems(details)
    for name, message in problems.items():
        print(f"backaudit: {_OPTION[name]}: {message}; nothing was {done}", file=sys.stderr)
    return bool(problems)


_OPTION = {
    "phone": "--phone",
    "contact_email": "--email",
    "address": "--address",
    "time_zone": "--time-zone",
}


def _session() -> AbstractContextManager[Session]:
    return command_session(get_settings().database.url)


def cmd_clinic_create(args: argparse.Namespace) -> int:
    with _session() as session:
        try:
            clinic = clinics.create_clinic(session, name=args.name)
        except ValueError as error:
            print(f"backaudit: {error}; nothing was created", file=sys.stderr)
            return EXIT_PROBLEM
        details = _details(args, clinic)
        if _detail_problems(details, "created"):
            return EXIT_PROBLEM
        clinics.update_details(session, clinic, details)
        session.commit()
        print(f"clinic created: {clinic.name}")
        print(f"id: {clinic.id}")
    return EXIT_OK


def cmd_clinic_update(args: argparse.Namespace) -> int:
    with _session() as session:
        try:
            clinic = clinics.find_clinic(session, id_or_name=args.clinic)
        except clinics.ClinicNotFoundError as error:
            print(f"backaudit: {error}; nothing was changed", file=sys.stderr)
            return EXIT_PROBLEM
        details = _details(args, clinic)
        if _detail_problems(details, "changed"):
            return EXIT_PROBLEM
        changed = clinics.update_details(session, clinic, details)
        if changed:
            audit.record(
                session,
                clinic_id=clinic.id,
                actor_id=None,
                action="clinic.updated",
                target_type="clinic",
                target_id=clinic.id,
                detail={"fields": changed, "by": "command line"},
            )
        session.commit()
        print(f"{clinic.name}: " + (", ".join(changed) + " changed" if changed else "no change"))
    return EXIT_OK


def cmd_clinic_list(args: argparse.Namespace) -> int:
    with _session() as session:
        for clinic in clinics.list_clinics(session):
            print(f"{clinic.id}  {clinic.name}")
    return EXIT_OK


def cmd_clinic_alerts(args: argparse.Namespace) -> int:
    settings = get_settings()
    with _session() as session:
        try:
            clinic = clinics.find_clinic(session, id_or_name=args.clinic)
            secret = None
            changes = []
            if args.email is not None:
                alert_settings.set_alert_email(session, clinic, args.email)
                changes.append("alerts.email_set" if args.email.strip() else "alerts.email_removed")
            if args.webhook_url is not None:
                allowed = settings.alerts.webhook_networks
                if problem := alert_settings.webhook_url_problem(
                    args.webhook_url, allow_http=settings.is_development, allowed_networks=allowed
                ) or alert_settings.webhook_host_problem(
                    args.webhook_url, allowed_networks=allowed
                ):
                    raise ValueError(problem)
                secret = alert_settings.set_webhook(
                    session,
                    clinic,
                    args.webhook_url,
                    allow_http=settings.is_development,
                    allowed_networks=allowed,
                )
                url_set = bool(args.webhook_url.strip())
                changes.append("alerts.webhook_set" if url_set else "alerts.webhook_removed")
            if args.new_webhook_secret:
                secret = alert_settings.rotate_webhook_secret(session, clinic)
                changes.append("alerts.webhook_secret_rotated")
        except (clinics.ClinicNotFoundError, ValueError) as error:
            print(f"backaudit: {error}; nothing was changed", file=sys.stderr)
            return EXIT_PROBLEM
        for action in changes:
            audit.record(
                session,
                clinic_id=clinic.id,
                actor_id=None,
                action=action,
                detail={"by": "command line"},
            )
        session.commit()
        print(f"alerts for {clinic.name}")
        print(f"e-mail:  {clinic.alert_email or '(none)'}")
        print(f"webhook: {clinic.webhook_url or '(none)'}")
        if secret is not None:
            print(f"webhook signing secret (shown once):\n{secret}")
    return EXIT_OK


PASSWORD_TRIES: Final = 3


def _ask_password() -> str | None:
    """A password typed twice, checked as it is typed (a short one is asked for again); None,
    with one line on stderr, after PASSWORD_TRIES tries or a second entry that differs."""
    for _ in range(PASSWORD_TRIES):
        password = _prompt(f"Password (at least {auth_service.MIN_PASSWORD_LENGTH} characters): ")
        if problem := auth_service.password_problem(password):
            print(f"backaudit: {problem[0].lower()}{problem[1:]}; try again", file=sys.stderr)
            continue
        if password != _prompt("Same password again: "):
            print("backaudit: the passwords do not match; nothing was created", file=sys.stderr)
            return None
        return password
    print("backaudit: no usable password given; nothing was created", file=sys.stderr)
    return None


def _prompt(prompt: str) -> str:
    """getpass, with its warning (a file name, a line number and a line of code, like a
    traceback) when the terminal cannot hide what is typed said in one line instead."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", getpass.GetPassWarning)
        typed = getpass.getpass(prompt)
    if caught:
        print("backaudit: this terminal showed the password as it was typed", file=sys.stderr)
    return typed


def cmd_user_create(args: argparse.Namespace) -> int:
    password: str | None = None
    if not args.no_password and sys.stdin.isatty():
        password = _ask_password()
        if password is None:
            return EXIT_PROBLEM
    with _session() as session:
        try:
            clinic = clinics.find_clinic(session, id_or_name=args.clinic)
            user, token = auth_service.create_user(
                session, clinic_id=clinic.id, email=args.email, role=args.role, password=password
            )
        except (clinics.ClinicNotFoundError, auth_service.AccountError) as error:
            print(f"backaudit: {error}; nothing was created", file=sys.stderr)
            return EXIT_PROBLEM
        session.commit()
        print(f"{user.role} {user.email} created for {clinic.name}")
        if token is not None:
            url = f"{get_settings().public_url.rstrip('/')}/staff/set-password/{token}"
            print(f"one-time link to set the password (valid 72 hours, shown once):\n{url}")
    return EXIT_OK


def cmd_user_reset_2fa(args: argparse.Namespace) -> int:
    with _session() as session:
        user = auth_service.find_account(session, args.email)
        if user is None:
            print(
                f"backaudit: no account with e-mail {args.email!r}; nothing was changed",
                file=sys.stderr,
            )
            return EXIT_PROBLEM
        had = second_factor.enrolled(user) or user.totp_secret is not None
        second_factor.reset(session, user)
        audit.record(
            session,
            clinic_id=user.clinic_id,
            actor_id=None,
            action="staff.2fa_reset",
            target_type="staff_user",
            target_id=user.id,
            detail={"by": "command line"},
        )
        session.commit()
        if had:
            print(f"second factor of {user.email} removed; their sessions are ended")
        else:
            print(f"{user.email} had no second factor; their sessions are ended")
        clinic = auth_service.clinic_of(session, user)
        if second_factor.required(user, clinic):
            print("they set up a new one at their next sign-in")
    return EXIT_OK
