"""Sending clinic alerts (app/services/alerts.py), after the submission's commit.

One sender per process: an asyncio task that the app's lifespan starts. It wakes every few
seconds, and at once when a request's commit queued an alert (app/deps.py), and sends what is
due in a worker thread, one alert at a time: claim it (committed), send it by SMTP or HTTP,
record the attempt (committed). No database connection is held while a mail server or a
webhook is being waited for. Several workers or processes each run one; the claim makes sure
only one of them sends a given alert.

Deliberately small: tens of alerts a clinic a day need no queue server, no pool of senders and
no async SMTP or HTTP client; the standard library's smtplib and http.client, in a thread, do.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import socket
import ssl
import threading
from contextlib import suppress
from datetime import datetime
from email.message import EmailMessage
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import __version__
from app.clock import Clock, system_clock
from app.config import Settings
from app.i18n import offered_languages
from app.services import (
    alert_messages,
    alert_settings,
    alerts,
    keep,
    keep_mail,
    mail,
    webhook_addresses,
)
from app.services.alerts import Claim, Outcome
from app.services.questionnaires import Registry

logger = logging.getLogger("backaudit.alerts")

POLL_SECONDS: Final = 5.0
# At most this many alerts in one pass; the next pass follows at once when it was a full one.
PASS_LIMIT: Final = 50


def deliver_due(
    engine: Engine,
    settings: Settings,
    registry: Registry,
    *,
    clock: Clock = system_clock,
    stop: threading.Event | None = None,
) -> int:
    """Send the alerts that are due, one by one; returns how many were tried. Blocking: the
    sender runs it in a thread (tests call it directly, with a clock of their own)."""
    tried = 0
    while tried < PASS_LIMIT and not (stop and stop.is_set()):
        with Session(engine, expire_on_commit=False) as session:
            claim = alerts.claim_next(session, now=clock())
            session.commit()
        if claim is None:
            break
        outcome = send(claim, settings, registry, clock=clock)
        with Session(engine, expire_on_commit=False) as session:
            status = alerts.record_attempt(session, claim, outcome, now=clock())
            session.commit()
        # Which alert and how it went; never what it said or who it was for.
        log = logger.info if outcome.ok else logger.warning
        # A webhook's reason (the network's answer) is kept here, not on the clinic's page.
        reason = f" ({outcome.reason})" if outcome.reason else ""
        log("alert %s (%s) attempt %d: %s%s", claim.id, claim.kind, claim.attempts, status, reason)
        tried += 1
    return tried + deliver_personal(engine, settings, clock=clock, stop=stop, limit=PASS_LIMIT)


def deliver_personal(
    engine: Engine,
    settings: Settings,
    *,
    clock: Clock = system_clock,
    stop: threading.Event | None = None,
    limit: int = PASS_LIMIT,
) -> int:
    """Send the e-mails people asked for on their result page (app/services/keep.py): their
    link, and check-in reminders when due. The same claim, send, record as alerts."""
    tried = 0
    # Each e-mail in its person's language, if it is still offered (a draft's only where
    # drafts are: LANGUAGES_OFFER_DRAFT).
    drafts, pseudo_locale = settings.languages.offered(settings.environment)
    offered = [
        lang.code for lang in offered_languages(offer_drafts=drafts, pseudo_locale=pseudo_locale)
    ]
    while tried < limit and not (stop and stop.is_set()):
        with Session(engine, expire_on_commit=False) as session:
            claim = keep.claim_next(
                session,
                now=clock(),
                secret_key=settings.secret_key,
                public_url=settings.public_url,
            )
            session.commit()
        if claim is None:
            break
        try:
            outcome = _send_message(
                keep_mail.email_message(
                    claim,
                    sender=settings.alert_sender,
                    now=clock(),
                    offered=offered,
                    emergency_number=settings.help_lines.emergency_number,
                ),
                settings,
            )
        except Exception as error:  # recorded, retried, never lost
            outcome = Outcome(False, _describe(error))
        with Session(engine, expire_on_commit=False) as session:
            status = keep.record_attempt(session, claim, outcome, now=clock())
            session.commit()
        # Which kind and how it went; never the address, whose result, or the server's words
        # (a refusal can quote the address).
        log = logger.info if outcome.ok else logger.warning
        log("personal e-mail (%s) attempt %d: %s", claim.kind, claim.attempts, status)
        tried += 1
    return tried


def send(
    claim: Claim, settings: Settings, registry: Registry, *, clock: Clock = system_clock
) -> Outcome:
    """One attempt: never raises; what went wrong is the outcome's detail. The mail's date and
    the webhook's signed timestamp are ``clock``'s."""
    try:
        if claim.kind == "email":
            return _send_email(claim, settings, registry, clock())
        if claim.kind == "webhook":
            return _post_webhook(claim, settings, clock())
        return Outcome(False, f"unknown kind of alert: {claim.kind}", retry=False)
    except Exception as error:  # an unexpected one too: recorded, retried, never lost
        if claim.kind == "webhook":
            # The admin chose the address: what the network said would tell them which
            # ports and hosts answer. The server's log has it.
            return Outcome(False, alerts.WEBHOOK_NOT_DELIVERED, reason=_describe(error))
        return Outcome(False, _describe(error))


def _send_email(claim: Claim, settings: Settings, registry: Registry, now: datetime) -> Outcome:
    if not claim.email:
        return Outcome(False, "the clinic has no alert e-mail address now", retry=False)
    if not mail.configured(settings):
        return Outcome(False, "e-mail is not set up on this server (SMTP_HOST)")
    level = registry.level(claim.level, claim.questionnaire_id)
    message = alert_messages.email_message(
        claim,
        level_label=level.label if level else claim.level,
        sender=settings.alert_sender,
        public_url=settings.public_url,
        now=now,
    )
    return _send_message(message, settings)


def _send_message(message: EmailMessage, settings: Settings) -> Outcome:
    try:
        return Outcome(True, mail.send(settings, message))
    except mail.MailNotSentError as refused:
        return Outcome(False, str(refused))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to the address that was checked, not to whatever the name resolves to next."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def _connect_pinned(self) -> socket.socket:
        error: OSError | None = None
        for address in self._addresses:  # as socket.create_connection tries a name's
            try:
                return socket.create_connection((address, self.port), self.timeout)
            except OSError as failed:
                error = failed
        raise error or OSError("no address to connect to")

    def connect(self) -> None:
        self.sock = self._connect_pinned()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """HTTPS to the checked address; the certificate is still checked against the host name
    in the URL, which is also the TLS server name (SNI) and the Host header."""

    def connect(self) -> None:
        self.sock = tls_context().wrap_socket(self._connect_pinned(), server_hostname=self.host)


def tls_context() -> ssl.SSLContext:
    """The system's trusted certificates, with host names checked (tests trust their own)."""
    return ssl.create_default_context()


def _post_webhook(claim: Claim, settings: Settings, now: datetime) -> Outcome:
    if not claim.webhook_url or not claim.webhook_secret:
        return Outcome(False, alerts.NO_WEBHOOK_NOW, retry=False)
    body = alert_messages.webhook_body(claim, public_url=settings.public_url)
    # Signed afresh for each attempt: a receiver may refuse old timestamps (replays).
    timestamp = str(int(now.timestamp()))
    url = urlsplit(claim.webhook_url)
    host, port = url.hostname or "", alert_settings.url_port(url)
    # Checked now, not only when saved: a name can resolve elsewhere since. The connection
    # goes to these addresses, so it cannot change between this check and the connect.
    addresses = webhook_addresses.checked_addresses(host, port, settings.alerts.webhook_networks)
    kind = _PinnedHTTPSConnection if url.scheme == "https" else _PinnedHTTPConnection
    connection = kind(host, port, addresses=addresses, timeout=settings.alerts.timeout_seconds)
    try:
        # http.client follows no redirect: a 3xx is an answer other than 2xx, a failed attempt.
        connection.request(
            "POST",
            urlunsplit(("", "", url.path or "/", url.query, "")),
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"backaudit/{__version__}",
                "X-Backaudit-Timestamp": timestamp,
                "X-Backaudit-Signature": alert_messages.signature(
                    claim.webhook_secret, timestamp, body
                ),
            },
        )
        code = connection.getresponse().status
    finally:
        connection.close()
    if 200 <= code < 300:
        return Outcome(True, alerts.WEBHOOK_DELIVERED, reason=f"HTTP {code}")
    return Outcome(False, alerts.WEBHOOK_NOT_DELIVERED, reason=f"HTTP {code}")


def _describe(error: Exception) -> str:
    """An error in a line: its kind and message (a mail server's or a network's words)."""
    text = str(error).strip() or "no message"
    return f"{type(error).__name__}: {text}"[:500]


class AlertSender:
    """The process's sender: ``start`` in the lifespan, ``nudge`` after a commit that queued
    alerts, ``stop`` on the way out. It reads the time from ``clock`` (the app's)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        registry: Registry,
        *,
        poll_seconds: float | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._work = (engine, settings, registry)
        self._clock = clock
        self._poll_seconds = POLL_SECONDS if poll_seconds is None else poll_seconds
        self._stop = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="alert sender")

    def nudge(self) -> None:
        """Send what is due now, not at the next tick. Safe from any thread."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        """Stop once the alert being sent, if any, is done: the lifespan disposes of the
        engine next, and a pass still running in its thread would leave a connection behind.
        One that takes too long is left (the alert is tried again after its claim runs out)."""
        self._stop.set()
        if self._task is None:
            return
        assert self._wake is not None
        self._wake.set()
        settings = self._work[1]
        await asyncio.wait({self._task}, timeout=settings.alerts.timeout_seconds + 5)
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        assert self._wake is not None
        engine, settings, registry = self._work
        while not self._stop.is_set():
            self._wake.clear()  # a nudge during the pass makes another pass at once
            full = False
            try:
                tried = await asyncio.to_thread(
                    deliver_due, engine, settings, registry, clock=self._clock, stop=self._stop
                )
                full = tried >= PASS_LIMIT
            except Exception as error:
                # The database is away, say: try again at the next tick. The kind of error
                # only: a database error's message can quote SQL.
                logger.warning("alert sender: pass failed (%s)", type(error).__name__)
            if not full:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
