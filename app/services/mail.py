"""Sending an e-mail through the configured SMTP server (SMTP_HOST and the settings beside it):
clinic alerts (app/services/alert_delivery.py), staff invitations and the person's own e-mails
(app/services/keep.py). Blocking: call it in a
worker thread, never on the event loop."""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from app.config import Settings


class MailNotSentError(Exception):
    """The message was not accepted; the text says why, for the log or the admin's page."""


def new_message(*, subject: str, sender: str, to: str, now: datetime) -> EmailMessage:
    """A message with the headers every e-mail of the app has: its Date (``now``, the sender's
    clock) and a Message-ID in the sender's domain. The caller sets the content."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    return message


def configured(settings: Settings) -> bool:
    return bool(settings.mail.host)


def send(settings: Settings, message: EmailMessage) -> str:
    """Hand ``message`` to the SMTP server; returns what happened ("accepted by host"). Raises
    MailNotSentError when the server refuses a recipient, and smtplib's or the network's errors as
    they come."""
    if not configured(settings):
        raise MailNotSentError("e-mail is not set up on this server (SMTP_HOST)")
    server = settings.mail
    with smtplib.SMTP(server.host, server.port, timeout=settings.alerts.timeout_seconds) as smtp:
        if server.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if server.username:
            smtp.login(server.username, server.password.get_secret_value())
        refused = smtp.send_message(message)
    if refused:
        raise MailNotSentError(f"refused by the mail server: {sorted(refused)}")
    return f"accepted by {server.host}"
