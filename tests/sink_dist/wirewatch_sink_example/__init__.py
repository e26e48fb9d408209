"""An example wirewatch sink plugin: every alert appended to a ledger file, one JSON line each.

``sinks.toml``::

    [[sink]]
    id = "ledger"
    type = "ledger"              # this distribution's entry point in the wirewatch.sinks group
    path = "/var/lib/wirewatch/ledger.jsonl"
    batch_size = 50              # common options: kinds, min_severity, max_attempts, batch_size

wirewatch does the rest: filters, batches, retries with backoff, metrics, and dead letters for the alerts
of a batch this sink finally failed to write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wirewatch.streams.sinks import AlertSink, SinkError, SinkItem


class LedgerSink(AlertSink):
    """Appends each batch of alerts (their bytes as on ``news.alerts``) to ``path``."""

    OPTIONS = frozenset({"path"})

    def __init__(self, id: str, *, path: str, **common: Any) -> None:
        if not isinstance(path, str) or not path:
            raise ValueError("option 'path' must be a file path")
        super().__init__(id, **common)
        self.path = Path(path).expanduser()

    async def write(self, items: Sequence[SinkItem]) -> None:
        lines = b"".join(item.body + b"\n" for item in items)
        try:
            await asyncio.to_thread(self._append, lines)
        except OSError as exc:  # retried with backoff; after max_attempts the alerts are dead-lettered
            raise SinkError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def _append(self, data: bytes) -> None:
        with self.path.open("ab") as ledger:
            ledger.write(data)
