"""Settings, read from the environment (prefix-free names) or a .env file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_DEV_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development
# What a tel: link may hold: digits, with a leading + for an international number.
_PHONE_NUMBER = re.compile(r"\+?[0-9]{2,15}")


def project_dir(name: str) -> Path:
    """A top-level project folder (questionnaires/, migrations/): next to the package, or in
    the working directory when the package is installed elsewhere."""
    for base in (_PACKAGE_ROOT, Path.cwd()):
        if (base / name).is_dir():
            return base / name
    return _PACKAGE_ROOT / name


@dataclass(frozen=True, slots=True)
class CheckinLimits:
    """How many check-ins an assessment may have in a day, and how long the same answers
    again count as the same check-in."""

    per_day: int = 3
    duplicate_window: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class HelpLines:
    """Who to call, in one place: every page and the questionnaires' texts read these (pages as
    the Jinja global ``help_lines``, texts as {emergency_name}-style placeholders filled when
    the definitions are loaded), so a deployment outside England that sets them sees them
    everywhere. The values are Settings' (EMERGENCY_NUMBER and the rest)."""

    emergency_number: str
    emergency_name: str
    urgent_number: str
    urgent_name: str
    urgent_online_url: str
    urgent_online_name: str

    def placeholders(self) -> dict[str, str]:
        """What a questionnaire text's help-line placeholders stand for."""
        return {
            "emergency_number": self.emergency_number,
            "emergency_name": self.emergency_name,
            "urgent_number": self.urgent_number,
            "urgent_name": self.urgent_name,
            "urgent_online_name": self.urgent_online_name,
        }


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./backaudit.db"
    secret_key: str = _DEV_SECRET
    questionnaires_dir: Path = project_dir("questionnaires")
    # The address people use to reach the site; used for links and QR codes in clinic pages.
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    # Who runs this copy of backaudit, and how people reach them: named on the trust pages
    # (about, privacy, accessibility, contact). Unset, those pages say no one has been named.
    operator_name: str = Field(default="", max_length=200)
    contact_email: str = Field(default="", max_length=320)
    # Connections each worker keeps open, and how many more it may open in a burst; unset:
    # 32 and 8 on PostgreSQL (one kept for each request in flight at the benchmark's 32
    # connections: above the pool size each one is a new server process, opened and closed per
    # request, which cost a third of the throughput), 40 and 60 on SQLite (a file handle each;
    # the work runs on the event loop, which must never wait for a free one).
    db_pool_size: int | None = Field(default=None, ge=1, le=500)
    db_max_overflow: int | None = Field(default=None, ge=0, le=500)
    db_pool_timeout: float = Field(default=10.0, gt=0, le=300)
    # A request's headers must arrive within this many seconds of its first byte, or the
    # connection is closed (app/serving.py): a slow client cannot hold a connection for ever.
    headers_timeout: float = Field(default=10.0, gt=0, le=300)
    # The proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (comma-separated
    # addresses, e.g. "127.0.0.1" for nginx on the same machine); none by default, so a client
    # cannot pick the address the sign-in throttle counts.
    forwarded_allow_ips: str = ""
    # The host names the app answers to (comma-separated; "*.example.org" for subdomains);
    # unset: PUBLIC_URL's host, localhost and 127.0.0.1. Any other Host header gets a 400.
    allowed_hosts: str = ""
    # The sign-in throttle (app/services/login_throttle.py): after the free attempts, the first wait, and
    # the longest wait per e-mail address (short: a stranger can make any account wait) and per
    # client address (the stranger's own). At most an hour: counters are kept that long.
    login_first_delay_seconds: float = Field(default=15.0, gt=0, le=3600)
    login_max_delay_email_seconds: float = Field(default=60.0, gt=0, le=3600)
    login_max_delay_address_seconds: float = Field(default=900.0, gt=0, le=3600)
    # Rate limits (app/services/rate_limits.py): requests per minute for each API key and for
    # each client address on the API, and the forms' submissions per hour from each client
    # address. Each is also how many may come at once. 0: no limit. A clinic has tens of
    # submissions a day; behind a reverse proxy, set FORWARDED_ALLOW_IPS, or every client has
    # the proxy's address and shares its limits.
    rate_limit_api_key_per_minute: int = Field(default=120, ge=0, le=100_000)
    rate_limit_api_address_per_minute: int = Field(default=240, ge=0, le=100_000)
    rate_limit_submissions_per_hour: int = Field(default=20, ge=0, le=100_000)
    # Staff members a clinic's admins may try to add per hour (an address in use at another
    # clinic is refused, which says it has an account: this bounds how many can be tried).
    rate_limit_staff_invites_per_hour: int = Field(default=20, ge=0, le=100_000)
    # Clinic alerts (app/services/alerts.py) go out by e-mail through this server; unset,
    # each try of an e-mail alert fails, saying why on the clinic's Alerts page.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    # The From: of alert e-mails; unset, noreply@ PUBLIC_URL's host.
    alert_from: str = ""
    # How long one SMTP conversation or webhook call may take before it counts as failed.
    alert_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Internal networks a clinic's webhook may point at (comma-separated CIDRs, e.g.
    # "10.20.0.0/16"): none by default, so an admin cannot make the server post to itself,
    # its private network or a metadata service (app/services/webhook_addresses.py).
    webhook_allowed_networks: str = ""
    # Check-ins (app/services/checkins.py): at most this many per assessment in any 24 hours
    # (by the app's clock); and the same answers again within these minutes are the same
    # check-in (the one stored is returned, and no alert is queued again).
    checkins_per_day: int = Field(default=3, ge=1, le=100)
    checkin_duplicate_minutes: float = Field(default=10.0, ge=0, le=1440)
    # Result PDFs (app/services/pdf.py): made in this many processes of their own per app
    # worker (each PDF takes seconds of CPU), with at most PDF_MAX_PENDING in progress or
    # waiting per app worker; beyond that a 503 with Retry-After. Each is made once and kept.
    pdf_workers: int = Field(default=1, ge=1, le=16)
    pdf_max_pending: int = Field(default=2, ge=1, le=100)
    # Who to call, on the emergency and urgent results (tap-to-call buttons) and in their texts:
    # another country's deployment changes these. Each name shows its number, so the words and
    # the number a phone dials can never disagree. An empty URGENT_ONLINE_URL leaves it out.
    emergency_number: str = "999"
    emergency_name: str = "999"
    urgent_number: str = "111"
    urgent_name: str = "NHS 111"
    urgent_online_url: str = "https://111.nhs.uk"
    urgent_online_name: str = "NHS 111 online"

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        # Only a development machine may run with the published development secret: a
        # deployment tagged "test" or "staging" is still reachable by someone.
        if self.environment != "development" and (
            self.secret_key == _DEV_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                f"SECRET_KEY must be set to a random value of at least 32 characters when"
                f" ENVIRONMENT is {self.environment!r} (only 'development' may use the default)"
                " (for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @model_validator(mode="after")
    def _check_pdf_limits(self) -> Settings:
        if self.pdf_max_pending < self.pdf_workers:
            raise ValueError(
                f"PDF_MAX_PENDING ({self.pdf_max_pending}) must be at least PDF_WORKERS"
                f" ({self.pdf_workers}): otherwise some workers would never be used"
            )
        return self

    @model_validator(mode="after")
    def _check_allowed_hosts(self) -> Settings:
        for host in self.trusted_hosts:
            if "*" in host[1:] or (host.startswith("*") and host != "*" and host[:2] != "*."):
                raise ValueError(f"ALLOWED_HOSTS: {host!r} is not a host name or '*.domain'")
        return self

    @model_validator(mode="after")
    def _check_contact_email(self) -> Settings:
        email = self.contact_email
        if email and (
            email.count("@") != 1
            or email.startswith("@")
            or email.endswith("@")
            or any(c.isspace() or not c.isprintable() or c in '<>"' for c in email)
        ):
            raise ValueError(f"CONTACT_EMAIL: {email!r} is not an e-mail address")
        return self

    @model_validator(mode="after")
    def _check_help_contacts(self) -> Settings:
        for name, number, words in (
            ("EMERGENCY", self.emergency_number, self.emergency_name),
            ("URGENT", self.urgent_number, self.urgent_name),
        ):
            if not _PHONE_NUMBER.fullmatch(number):
                raise ValueError(f"{name}_NUMBER: {number!r} is not a phone number (digits)")
            if number.lstrip("+") not in words.replace(" ", ""):
                raise ValueError(f"{name}_NAME must show the number it calls ({number})")
        if self.urgent_online_url and not self.urgent_online_url.startswith("https://"):
            raise ValueError("URGENT_ONLINE_URL must start with https:// (or be empty)")
        return self

    @model_validator(mode="after")
    def _check_webhook_networks(self) -> Settings:
        self.webhook_networks  # noqa: B018 - raises ValueError for a bad one
        return self

    @property
    def webhook_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """WEBHOOK_ALLOWED_NETWORKS, parsed."""
        networks = []
        for text in filter(
            None, (part.strip() for part in self.webhook_allowed_networks.split(","))
        ):
            try:
                networks.append(ip_network(text))
            except ValueError:
                raise ValueError(
                    f"WEBHOOK_ALLOWED_NETWORKS: {text!r} is not a network, like 10.20.0.0/16"
                ) from None
        return tuple(networks)

    @property
    def trusted_hosts(self) -> list[str]:
        """The host names requests may be addressed to."""
        named = [host.strip().lower() for host in self.allowed_hosts.split(",") if host.strip()]
        if named:
            return named
        public = urlsplit(self.public_url).hostname
        return list(dict.fromkeys([*([public] if public else []), "localhost", "127.0.0.1"]))

    @property
    def checkin_limits(self) -> CheckinLimits:
        return CheckinLimits(
            per_day=self.checkins_per_day,
            duplicate_window=timedelta(minutes=self.checkin_duplicate_minutes),
        )

    @property
    def alert_sender(self) -> str:
        return self.alert_from or f"noreply@{urlsplit(self.public_url).hostname or 'localhost'}"

    @property
    def help_lines(self) -> HelpLines:
        return HelpLines(
            emergency_number=self.emergency_number,
            emergency_name=self.emergency_name,
            urgent_number=self.urgent_number,
            urgent_name=self.urgent_name,
            urgent_online_url=self.urgent_online_url,
            urgent_online_name=self.urgent_online_name,
        )

    @property
    def is_development(self) -> bool:
        return self.environment != "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
