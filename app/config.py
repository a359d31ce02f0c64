"""Settings, read from the environment (prefix-free names) or a .env file.

They are grouped as a deployer meets them (``settings.mail.host``, ``settings.limits.*``), but
every variable keeps the flat name it always had (``SMTP_HOST``), which deployments have in
their .env files: each group's field names its variable as its validation alias, and the
environment sources below fill a group from those names. There is no ``MAIL__HOST`` form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

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


class SettingsGroup(BaseModel):
    """Settings that belong together. Each field's validation alias is its environment
    variable, so a bad value is reported by the name the deployer set (``pdf.PDF_WORKERS``);
    in code and tests a group is made by field name (``Pdf(workers=2)``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True)

    @classmethod
    def variables(cls) -> tuple[str, ...]:
        """The environment variables this group is read from."""
        return tuple(str(field.validation_alias) for field in cls.model_fields.values())

    @model_validator(mode="before")
    @classmethod
    def _names_outrank_variables(cls, data: Any) -> Any:
        # Settings(mail={"host": ...}) arrives merged with the environment's {"SMTP_HOST": ...}:
        # a value given in code by name wins, as a keyword argument always has.
        if isinstance(data, dict):
            named = {str(f.validation_alias) for n, f in cls.model_fields.items() if n in data}
            data = {key: value for key, value in data.items() if key not in named}
        return data


class Operator(SettingsGroup):
    """Who runs this copy of backaudit, and how people reach them: named on the trust pages
    (about, privacy, accessibility, contact). Unset, those pages say no one has been named."""

    name: str = Field(default="", max_length=200, validation_alias="OPERATOR_NAME")
    contact_email: str = Field(default="", max_length=320, validation_alias="CONTACT_EMAIL")

    @model_validator(mode="after")
    def _check_contact_email(self) -> Operator:
        email = self.contact_email
        if email and (
            email.count("@") != 1
            or email.startswith("@")
            or email.endswith("@")
            or any(c.isspace() or not c.isprintable() or c in '<>"' for c in email)
        ):
            raise ValueError(f"CONTACT_EMAIL: {email!r} is not an e-mail address")
        return self


class Database(SettingsGroup):
    url: str = Field(default="sqlite:///./backaudit.db", validation_alias="DATABASE_URL")
    # Connections each worker keeps open, and how many more it may open in a burst; unset:
    # 32 and 8 on PostgreSQL (one kept for each request in flight at the benchmark's 32
    # connections: above the pool size each one is a new server process, opened and closed per
    # request, which cost a third of the throughput), 40 and 60 on SQLite (a file handle each;
    # the work runs on the event loop, which must never wait for a free one).
    pool_size: int | None = Field(default=None, ge=1, le=500, validation_alias="DB_POOL_SIZE")
    max_overflow: int | None = Field(default=None, ge=0, le=500, validation_alias="DB_MAX_OVERFLOW")
    pool_timeout: float = Field(default=10.0, gt=0, le=300, validation_alias="DB_POOL_TIMEOUT")


class Http(SettingsGroup):
    """How requests reach the app: through which proxies, for which host names, how fast."""

    # The proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (comma-separated
    # addresses, e.g. "127.0.0.1" for nginx on the same machine); none by default, so a client
    # cannot pick the address the sign-in throttle counts.
    forwarded_allow_ips: str = Field(default="", validation_alias="FORWARDED_ALLOW_IPS")
    # The host names the app answers to (comma-separated; "*.example.org" for subdomains);
    # unset: PUBLIC_URL's host, localhost and 127.0.0.1 (Settings.trusted_hosts). Any other
    # Host header gets a 400.
    allowed_hosts: str = Field(default="", validation_alias="ALLOWED_HOSTS")
    # A request's headers must arrive within this many seconds of its first byte, or the
    # connection is closed (app/serving.py): a slow client cannot hold a connection for ever.
    headers_timeout: float = Field(default=10.0, gt=0, le=300, validation_alias="HEADERS_TIMEOUT")

    @property
    def named_hosts(self) -> list[str]:
        """ALLOWED_HOSTS, parsed."""
        return [host.strip().lower() for host in self.allowed_hosts.split(",") if host.strip()]

    @model_validator(mode="after")
    def _check_allowed_hosts(self) -> Http:
        for host in self.named_hosts:
            if "*" in host[1:] or (host.startswith("*") and host != "*" and host[:2] != "*."):
                raise ValueError(f"ALLOWED_HOSTS: {host!r} is not a host name or '*.domain'")
        return self


class SignIn(SettingsGroup):
    """The sign-in throttle (app/services/login_throttle.py): after the free attempts, the
    first wait, and the longest wait per e-mail address (short: a stranger can make any account
    wait) and per client address (the stranger's own). At most an hour: counters are kept that
    long."""

    first_delay_seconds: float = Field(
        default=15.0, gt=0, le=3600, validation_alias="LOGIN_FIRST_DELAY_SECONDS"
    )
    max_delay_email_seconds: float = Field(
        default=60.0, gt=0, le=3600, validation_alias="LOGIN_MAX_DELAY_EMAIL_SECONDS"
    )
    max_delay_address_seconds: float = Field(
        default=900.0, gt=0, le=3600, validation_alias="LOGIN_MAX_DELAY_ADDRESS_SECONDS"
    )


@dataclass(frozen=True, slots=True)
class CheckinLimits:
    """How many check-ins an assessment may have in a day, and how long the same answers
    again count as the same check-in."""

    per_day: int = 3
    duplicate_window: timedelta = timedelta(minutes=10)


class Limits(SettingsGroup):
    """How much one client, key or assessment may send. 0 (where allowed): no limit."""

    # Rate limits (app/services/rate_limits.py): requests per minute for each API key and for
    # each client address on the API, and the forms' submissions per hour from each client
    # address. Each is also how many may come at once. A clinic has tens of submissions a day;
    # behind a reverse proxy, set FORWARDED_ALLOW_IPS, or every client has the proxy's address
    # and shares its limits.
    api_key_per_minute: int = Field(
        default=120, ge=0, le=100_000, validation_alias="RATE_LIMIT_API_KEY_PER_MINUTE"
    )
    api_address_per_minute: int = Field(
        default=240, ge=0, le=100_000, validation_alias="RATE_LIMIT_API_ADDRESS_PER_MINUTE"
    )
    submissions_per_hour: int = Field(
        default=20, ge=0, le=100_000, validation_alias="RATE_LIMIT_SUBMISSIONS_PER_HOUR"
    )
    # Staff members a clinic's admins may try to add per hour (an address in use at another
    # clinic is refused, which says it has an account: this bounds how many can be tried).
    staff_invites_per_hour: int = Field(
        default=20, ge=0, le=100_000, validation_alias="RATE_LIMIT_STAFF_INVITES_PER_HOUR"
    )
    # Check-ins (app/services/checkins.py): at most this many per assessment in any 24 hours
    # (by the app's clock); and the same answers again within these minutes are the same
    # check-in (the one stored is returned, and no alert is queued again).
    checkins_per_day: int = Field(default=3, ge=1, le=100, validation_alias="CHECKINS_PER_DAY")
    checkin_duplicate_minutes: float = Field(
        default=10.0, ge=0, le=1440, validation_alias="CHECKIN_DUPLICATE_MINUTES"
    )

    @property
    def checkins(self) -> CheckinLimits:
        return CheckinLimits(
            per_day=self.checkins_per_day,
            duplicate_window=timedelta(minutes=self.checkin_duplicate_minutes),
        )


class Mail(SettingsGroup):
    """The server clinic alerts (app/services/alerts.py) go out through by e-mail; unset, each
    try of an e-mail alert fails, saying why on the clinic's Alerts page."""

    host: str = Field(default="", validation_alias="SMTP_HOST")
    port: int = Field(default=587, ge=1, le=65535, validation_alias="SMTP_PORT")
    username: str = Field(default="", validation_alias="SMTP_USERNAME")
    password: SecretStr = Field(default=SecretStr(""), validation_alias="SMTP_PASSWORD")
    starttls: bool = Field(default=True, validation_alias="SMTP_STARTTLS")


class Alerts(SettingsGroup):
    # The From: of alert e-mails; unset, noreply@ PUBLIC_URL's host (Settings.alert_sender).
    sender: str = Field(default="", validation_alias="ALERT_FROM")
    # How long one SMTP conversation or webhook call may take before it counts as failed.
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, validation_alias="ALERT_TIMEOUT_SECONDS"
    )
    # Internal networks a clinic's webhook may point at (comma-separated CIDRs, e.g.
    # "10.20.0.0/16"): none by default, so an admin cannot make the server post to itself,
    # its private network or a metadata service (app/services/webhook_addresses.py).
    webhook_allowed_networks: str = Field(default="", validation_alias="WEBHOOK_ALLOWED_NETWORKS")

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

    @model_validator(mode="after")
    def _check_webhook_networks(self) -> Alerts:
        self.webhook_networks  # noqa: B018 - raises ValueError for a bad one
        return self


class Pdf(SettingsGroup):
    """Result PDFs (app/services/pdf.py): made in this many processes of their own per app
    worker (each PDF takes seconds of CPU), with at most PDF_MAX_PENDING in progress or waiting
    per app worker; beyond that a 503 with Retry-After. Each is made once and kept."""

    workers: int = Field(default=1, ge=1, le=16, validation_alias="PDF_WORKERS")
    max_pending: int = Field(default=2, ge=1, le=100, validation_alias="PDF_MAX_PENDING")

    @model_validator(mode="after")
    def _check_pending(self) -> Pdf:
        if self.max_pending < self.workers:
            raise ValueError(
                f"PDF_MAX_PENDING ({self.max_pending}) must be at least PDF_WORKERS"
                f" ({self.workers}): otherwise some workers would never be used"
            )
        return self


class HelpLines(SettingsGroup):
    """Who to call, in one place: every page and the questionnaires' texts read these (pages as
    the Jinja global ``help_lines``, texts as {emergency_name}-style placeholders filled when
    the definitions are loaded), so a deployment outside England that sets them sees them
    everywhere. Each name shows its number, so the words and the number a phone dials can
    never disagree. An empty URGENT_ONLINE_URL leaves it out."""

    emergency_number: str = Field(default="999", validation_alias="EMERGENCY_NUMBER")
    emergency_name: str = Field(default="999", validation_alias="EMERGENCY_NAME")
    urgent_number: str = Field(default="111", validation_alias="URGENT_NUMBER")
    urgent_name: str = Field(default="NHS 111", validation_alias="URGENT_NAME")
    urgent_online_url: str = Field(
        default="https://111.nhs.uk", validation_alias="URGENT_ONLINE_URL"
    )
    urgent_online_name: str = Field(default="NHS 111 online", validation_alias="URGENT_ONLINE_NAME")
    # Relay UK: a textphone or the Relay UK app dials 18001 before the number (999 and 111 alike),
    # so the relay number is always the prefix and the number above. Empty leaves it out.
    text_relay_prefix: str = Field(default="18001", validation_alias="TEXT_RELAY_PREFIX")
    text_relay_name: str = Field(default="Relay UK", validation_alias="TEXT_RELAY_NAME")
    find_emergency_url: str = Field(
        default="https://www.nhs.uk/service-search/find-an-accident-and-emergency-service",
        validation_alias="FIND_EMERGENCY_URL",
    )
    find_emergency_name: str = Field(
        default="Find your nearest A&E", validation_alias="FIND_EMERGENCY_NAME"
    )

    def placeholders(self) -> dict[str, str]:
        """What a questionnaire text's help-line placeholders stand for."""
        return {
            "emergency_number": self.emergency_number,
            "emergency_name": self.emergency_name,
            "urgent_number": self.urgent_number,
            "urgent_name": self.urgent_name,
            "urgent_online_name": self.urgent_online_name,
        }

    @model_validator(mode="after")
    def _check_help_contacts(self) -> HelpLines:
        for name, number, words in (
            ("EMERGENCY", self.emergency_number, self.emergency_name),
            ("URGENT", self.urgent_number, self.urgent_name),
        ):
            if not _PHONE_NUMBER.fullmatch(number):
                raise ValueError(f"{name}_NUMBER: {number!r} is not a phone number (digits)")
            if number.lstrip("+") not in words.replace(" ", ""):
                raise ValueError(f"{name}_NAME must show the number it calls ({number})")
        for name, url in (
            ("URGENT_ONLINE_URL", self.urgent_online_url),
            ("FIND_EMERGENCY_URL", self.find_emergency_url),
        ):
            if url and not url.startswith("https://"):
                raise ValueError(f"{name} must start with https:// (or be empty)")
        if self.text_relay_prefix and not self.text_relay_prefix.isdigit():
            raise ValueError(f"TEXT_RELAY_PREFIX: {self.text_relay_prefix!r} is not digits")
        return self


class Languages(SettingsGroup):
    """LANGUAGES_OFFER_DRAFT: offer translations not yet reviewed (unset: not in production);
    LANGUAGES_PSEUDO_LOCALE: the generated en-XA too, a draft (unset: in tests only)."""

    offer_draft: bool | None = Field(default=None, validation_alias="LANGUAGES_OFFER_DRAFT")
    pseudo_locale: bool | None = Field(default=None, validation_alias="LANGUAGES_PSEUDO_LOCALE")

    def offered(self, environment: str) -> tuple[bool, bool]:
        """Whether drafts are offered, and the pseudo-locale: never in production."""
        drafts = environment != "production" if self.offer_draft is None else self.offer_draft
        pseudo = environment == "test" if self.pseudo_locale is None else self.pseudo_locale
        return drafts, drafts and pseudo and environment != "production"


def _group_of(field: FieldInfo) -> type[SettingsGroup] | None:
    group = field.annotation
    return group if isinstance(group, type) and issubclass(group, SettingsGroup) else None


class _FlatNames(EnvSettingsSource):
    """The environment, read for a group from its fields' own variables (SMTP_HOST for
    mail.host), never from a variable named after the group (many shells set MAIL)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if _group_of(field) is not None:
            return None, field_name, True  # a group: explode_env_vars fills it
        return super().get_field_value(field, field_name)

    def explode_env_vars(
        self, field_name: str, field: FieldInfo, env_vars: Mapping[str, str | None]
    ) -> dict[str, Any]:
        group = _group_of(field)
        if group is None:
            return super().explode_env_vars(field_name, field, env_vars)
        return {
            name: env_vars[key]
            for name in group.variables()
            if (key := name.lower()) in env_vars and env_vars[key] is not None
        }


class _FlatNamesInDotEnv(_FlatNames, DotEnvSettingsSource):
    """The .env file, read as _FlatNames reads the environment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    secret_key: str = _DEV_SECRET
    # The address people use to reach the site; used for links and QR codes in clinic pages.
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    questionnaires_dir: Path = project_dir("questionnaires")

    operator: Operator = Operator()
    database: Database = Database()
    http: Http = Http()
    sign_in: SignIn = SignIn()
    limits: Limits = Limits()
    mail: Mail = Mail()
    alerts: Alerts = Alerts()
    pdf: Pdf = Pdf()
    help_lines: HelpLines = HelpLines()
    languages: Languages = Languages()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = (
            dotenv_settings.env_file if isinstance(dotenv_settings, DotEnvSettingsSource) else None
        )
        return (
            init_settings,
            _FlatNames(settings_cls),
            _FlatNamesInDotEnv(settings_cls, env_file=env_file),
            file_secret_settings,
        )

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

    @property
    def trusted_hosts(self) -> list[str]:
        """The host names requests may be addressed to."""
        if named := self.http.named_hosts:
            return named
        public = urlsplit(self.public_url).hostname
        return list(dict.fromkeys([*([public] if public else []), "localhost", "127.0.0.1"]))

    @property
    def alert_sender(self) -> str:
        return self.alerts.sender or f"noreply@{urlsplit(self.public_url).hostname or 'localhost'}"

    @property
    def is_development(self) -> bool:
        return self.environment != "production"


# Variables that were settings and are now constants beside the code that uses them: a
# deployment that still sets one is told at start-up that it does nothing.
RETIRED_VARIABLES: Final = {
    "MAX_API_BODY_BYTES": "a constant in app/middleware.py (64 KiB)",
    "MAX_FORM_BODY_BYTES": "a constant in app/middleware.py (32 KiB)",
    "CORRECTION_WINDOW_MINUTES": "a clinical control, a constant in app/services/interview.py",
    "DEFAULT_QUESTIONNAIRE": "the app runs one audit: app/services/questionnaires.py",
}


def retired_variables_set(environ: Mapping[str, str], env_file: Path | None) -> list[str]:
    """The retired variables set in ``environ`` or in the .env file, in RETIRED_VARIABLES'
    order."""
    in_file = dotenv_values(env_file) if env_file is not None and env_file.is_file() else {}
    return [name for name in RETIRED_VARIABLES if name in environ or name in in_file]


@lru_cache
def get_settings() -> Settings:
    return Settings()
