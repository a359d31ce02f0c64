"""A clinic's alert settings: where its e-mail alerts go, and its webhook's address and signing
secret, each checked before it is kept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import SplitResult, urlsplit

from sqlmodel import Session

from app.i18n import gettext
from app.models import Clinic
from app.security import new_token
from app.services import webhook_addresses
from app.services.text import control_character_problem
from app.services.webhook_addresses import Network

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a label, not a secret
MAX_URL_LENGTH: Final = 2000  # what Clinic.webhook_url holds
MAX_EMAIL_LENGTH: Final = 320
NOT_ON_THE_INTERNET: Final = (
    "Enter an address on the internet: this one is the server itself, or on a private,"
    " link-local or reserved network (the server's WEBHOOK_ALLOWED_NETWORKS can allow one)"
)


def email_problem(email: str) -> str | None:
    """Why ``email`` cannot be an alert address, for people; None if it can (or is empty,
    which turns e-mail alerts off)."""
    email = email.strip()
    if not email:
        return None
    if problem := control_character_problem(email):
        return problem
    local, at, domain = email.partition("@")
    if (
        not (local and at and domain)
        or "@" in domain
        or len(email) > MAX_EMAIL_LENGTH
        or any(char.isspace() or char in ',;<>"' for char in email)
    ):
        return gettext("Enter one e-mail address, like %(example)s") % {
            "example": "alerts@example.org"
        }
    return None


def webhook_url_problem(
    url: str, *, allow_http: bool, allowed_networks: Sequence[Network]
) -> str | None:
    """Why ``url`` cannot be the webhook, for people; None if it can (or is empty). Asks no
    DNS server: an address written as numbers is checked here, a name by
    ``webhook_host_problem``."""
    url = url.strip()
    if not url:
        return None
    if problem := control_character_problem(url):
        return problem
    if len(url) > MAX_URL_LENGTH or any(char.isspace() for char in url):
        return "Enter a web address of at most 2000 characters, without spaces"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "Enter a web address, like https://example.org/backaudit-alerts"
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        # The body names a submission's level: it must not cross the internet in clear.
        return "Enter an https:// address, like https://example.org/backaudit-alerts"
    if parts.username is not None or parts.password is not None:
        return "Leave the user name and password out of the address"
    address = webhook_addresses.literal_address(parts.hostname)
    if address is not None and webhook_addresses.kind_of_refused(address, allowed_networks):
        return NOT_ON_THE_INTERNET
    return None


def webhook_host_problem(url: str, *, allowed_networks: Sequence[Network]) -> str | None:
    """Why the host of ``url`` (a valid webhook address) cannot be the webhook: it resolves to
    an address the server may not post to. Blocking (DNS): call it in a thread. A name that
    does not resolve now passes: every attempt checks it again before connecting."""
    try:
        parts = urlsplit(url.strip())
        if parts.hostname:
            webhook_addresses.checked_addresses(parts.hostname, url_port(parts), allowed_networks)
    except webhook_addresses.RefusedAddressError:
        return NOT_ON_THE_INTERNET
    except (OSError, ValueError):  # no such name (now), or not an address at all
        return None
    return None


def has_route(clinic: Clinic) -> bool:
    """Whether the clinic is told of an emergency or urgent submission at all (an e-mail
    address or a webhook); without one, only a look at the queue finds it."""
    return bool(clinic.alert_email or clinic.webhook_url)


def set_alert_email(session: Session, clinic: Clinic, email: str) -> None:
    """Where e-mail alerts go; empty turns them off. Alerts still waiting go to the new address."""
    if problem := email_problem(email):
        raise ValueError(problem)
    clinic.alert_email = email.strip() or None
    session.add(clinic)
    session.flush()


def url_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def set_webhook(
    session: Session,
    clinic: Clinic,
    url: str,
    *,
    allow_http: bool,
    allowed_networks: Sequence[Network],
) -> str | None:
    """Where webhooks go; empty turns them off and forgets the secret. Returns a new signing
    secret when one was made (the first time a URL is set): the one chance to show it. The
    caller checks a name's addresses first (``webhook_host_problem``, blocking)."""
    if problem := webhook_url_problem(
        url, allow_http=allow_http, allowed_networks=allowed_networks
    ):
        raise ValueError(problem)
    url = url.strip()
    made = None
    if not url:
        clinic.webhook_url = clinic.webhook_secret = None
    else:
        clinic.webhook_url = url
        if clinic.webhook_secret is None:
            made = clinic.webhook_secret = new_webhook_secret()
    session.add(clinic)
    session.flush()
    return made


def rotate_webhook_secret(session: Session, clinic: Clinic) -> str:
    """A new signing secret, used from the next attempt on (the old one stops at once)."""
    if clinic.webhook_url is None:
        raise ValueError("Set the webhook address first")
    clinic.webhook_secret = new_webhook_secret()
    session.add(clinic)
    session.flush()
    return clinic.webhook_secret


def new_webhook_secret() -> str:
    return SECRET_PREFIX + new_token(32)
