"""The e-mail sink: alerts sent over SMTP (``aiosmtplib``), a multipart plain-text + HTML message built
with the standard library's ``email``. One alert per message, or a digest when a batch has several.

The server is a URL: ``smtp://host:587`` (STARTTLS when the server offers it; required with
``require_tls``) or ``smtps://host:465`` (TLS from the first byte), with optional user and password.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib

from . import message
from .base import AlertSink, SinkConfigError, SinkError, SinkItem

#: SMTP reply codes worth another attempt: 4xx are transient by definition (RFC 5321).
_PERMANENT = range(500, 600)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    ssl: bool = False  # smtps: TLS from the first byte
    require_tls: bool = False  # smtp: refuse to go on without STARTTLS
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = "wirewatch@localhost"
    tls_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_url(cls, url: str, **extra: Any) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SinkConfigError(f"SMTP server must be smtp://host:port or smtps://host:port, not {url!r}")
        secure = parts.scheme == "smtps"
        return cls(parts.hostname, parts.port or (465 if secure else 25), ssl=secure, **extra)


class EmailSink(AlertSink):
    """Sends each batch to ``to`` as one message (a digest when the batch has more than one alert)."""

    stage = "email"
    reason = "email_failed"

    def __init__(
        self,
        id: str,
        *,
        server: SmtpServer,
        to: Sequence[str],
        subject_prefix: str = "",
        timeout: float = 10.0,
        **common: Any,
    ) -> None:
        super().__init__(id, **common)
        self.server, self.to, self.subject_prefix, self.timeout = server, list(to), subject_prefix, timeout

    def compose(self, items: Sequence[SinkItem]) -> EmailMessage:
        alerts = [item.alert for item in items]
        msg = EmailMessage()
        msg["From"] = self.server.sender
        msg["To"] = ", ".join(self.to)
        msg["Subject"] = (
            message.subject(alerts[0], self.subject_prefix)
            if len(alerts) == 1
            else message.digest_subject(alerts, self.subject_prefix)
        )
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="wirewatch")
        # The delivery id(s), so a mailbox rule or a person can tell a repeat from a new message.
        msg["X-Wirewatch-Delivery"] = ", ".join(item.delivery_id for item in items)
        msg.set_content(message.text(alerts))
        msg.add_alternative(message.html_body(alerts), subtype="html")
        return msg

    async def write(self, items: Sequence[SinkItem]) -> int | None:
        server = self.server
        try:
            errors, _reply = await aiosmtplib.send(
                self.compose(items),
                hostname=server.host,
                port=server.port,
                username=server.username or None,
                password=server.password or None,
                use_tls=server.ssl,
                start_tls=None if not server.require_tls else True,
                tls_context=server.tls_context,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise SinkError(
                f"SMTP {exc.code}: {exc.message}", retry=exc.code not in _PERMANENT, status=exc.code
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SinkError(f"SMTP: {type(exc).__name__}: {exc}") from None
        refused = (
            {rcpt: f"{code} {text}" for rcpt, (code, text) in errors.items()} if isinstance(errors, Mapping) else {}
        )
        if refused and len(refused) == len(self.to):
            raise SinkError(f"SMTP: every recipient refused: {refused}", retry=False)
        return 250
