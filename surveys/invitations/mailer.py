"""Sending email: SMTP in production and tests, files in an outbox folder for trying it out."""

from __future__ import annotations

import smtplib
from collections.abc import Iterable
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    def __init__(self, host: str, port: int, timeout: float = 10) -> None:
        self.host, self.port, self.timeout = host, port, timeout

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)


class OutboxMailer:
    """Writes each message as an .eml file: the embedded mode's stand-in for a mail server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{message['Message-ID'].strip('<>').split('@')[0]}.eml"
        (self.folder / name).write_bytes(bytes(message))

    def erase(self, addresses: Iterable[str] = (), message_ids: Iterable[str] = ()) -> int:
        """Delete the messages sent to any of these addresses or having any of these
        Message-IDs (erasure on request: the outbox must not keep a copy). Returns how many."""
        wanted = {a.strip().lower() for a in addresses if a and a.strip()}
        ids = {m.strip().strip("<>").lower() for m in message_ids if m}
        if not self.folder.is_dir() or not (wanted or ids):
            return 0
        parser = BytesHeaderParser(policy=default_policy)
        removed = 0
        for path in self.folder.glob("*.eml"):
            try:
                with path.open("rb") as handle:
                    headers = parser.parse(handle)
                to = {addr.lower() for _name, addr in getaddresses(
                    [str(v) for key in ("To", "Cc", "Bcc") for v in headers.get_all(key, [])])}
                own_id = str(headers.get("Message-ID", "")).strip().strip("<>").lower()
            except (OSError, ValueError):
                continue
            if to & wanted or (own_id and own_id in ids):
                path.unlink(missing_ok=True)
                removed += 1
        return removed
