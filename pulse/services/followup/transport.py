"""Delivering a message outside Pulse: email through the organisation's SMTP server, and chat webhooks.

Only transport lives here; what a message says (published figures only) is decided in alerts.py.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import requests

# A slow server delays the next alert, never the whole run: every network wait ends after this long.
TIMEOUT_SECONDS = 10
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class DeliveryError(Exception):
    """A message could not be handed over; the text says to whom and why (never the message itself)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where email goes: PULSE_SMTP_* settings. Security is starttls, ssl (implicit TLS) or none."""

    host: str
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = ""
    sender: str = "pulse@localhost"


def send_email(smtp: SmtpSettings, message: EmailMessage) -> None:
    """Hand `message` (with its To set) to the SMTP server; DeliveryError if the server refuses or is away."""
    del message["From"]
    message["From"] = smtp.sender
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=context)
            if smtp.username:
                client.login(smtp.username, smtp.password)
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"email to {message['To']}: {exc}") from exc


def check_webhook_url(url: str) -> str:
    """The URL if Pulse may post to it: https://, or http:// to this machine only (a test receiver)."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"{url!r} is not a web address")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS):
        return url
    raise ValueError(
        "A webhook address must start with https:// (figures should not cross a network in clear)"
    )


def post_webhook(url: str, payload: dict[str, Any]) -> None:
    """POST `payload` as JSON; DeliveryError unless the receiver answers 2xx within the timeout."""
    try:
        check_webhook_url(url)
    except ValueError as exc:
        raise DeliveryError(f"webhook {_safe(url)}: {exc}") from exc
    try:
        response = requests.post(url, json=payload, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.Timeout as exc:
        raise DeliveryError(f"webhook {_safe(url)}: no answer within {TIMEOUT_SECONDS} s") from exc
    except requests.RequestException as exc:
        # The exception's text names the whole URL, secret path included: report its kind only.
        raise DeliveryError(f"webhook {_safe(url)}: {type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook {_safe(url)}: the receiver answered {response.status_code}")


def _safe(url: str) -> str:
    # A chat webhook's path is its secret (anyone holding it can post): name only the host in reports.
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname}{port}/..."
