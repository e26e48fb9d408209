"""JSONL feeds: one file (followed as it grows) or a drop folder of ``*.jsonl`` files.

Each line is a JSON object of Article fields (``text`` required; ``url``, ``title``, ``published_at``,
``lang``, ``meta`` optional; ``feed`` defaults to the feed id, ``id`` to the stable article id).

Bad lines are **not dropped**: a line that is not JSON or not a valid Article is produced to
``news.raw`` as it is (a :class:`~wirewatch.streams.feeds.base.RawRecord`), so the worker dead-letters
it with its reason code and original bytes; the runner counts it as ``invalid`` and logs
``file:line: reason``.

Options (type ``jsonl``):

===============  ============  ==========================================================================
``path``         required      a ``.jsonl`` file, or a folder watched for new files
``interval``     5             seconds between polls
``pattern``      ``*.jsonl``   folder mode: which files to pick up
``settle``       1.0           folder mode: a file is taken once unchanged for this many seconds (write
                               to another name and rename into the folder to avoid waiting)
``move_done``    true          folder mode: move processed files to ``done_dir``; false: remember them in
                               the feed state instead (by name, size and mtime)
``done_dir``     ``done``      relative to the folder
``pace``         0             seconds to wait between articles (replays, demos)
===============  ============  ==========================================================================

A file is followed by byte offset, kept in the feed state once all its lines were delivered, so a
restart neither re-ingests nor misses lines; a file that shrank is read again from the start. Only
complete lines are read (a last line without a newline waits until the file has settled).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from ..records import Article, dumps, now_rfc3339
from ..settings import Settings
from ..validation import InvalidRecord, load_json, parse_article
from .base import BaseFeed, FeedContext, FeedError, RawRecord


def article_from_json(raw: bytes, *, feed: str, settings: Settings) -> Article:
    """Validate one JSON object of Article fields (the worker's own rules); ``feed`` and ``fetched_at``
    are filled in when absent. Raises :class:`InvalidRecord` with a reason code."""
    value = raw
    try:
        data: Any = load_json(raw)  # before anything writes it again: orjson refuses deep values
    except InvalidRecord as exc:
        if exc.reason == "too_deep":
            raise
        data = None  # parse_article reports not_utf8 / not_json with the right detail
    if isinstance(data, dict) and not data.get("feed"):
        value = dumps({**data, "feed": feed})
    article = parse_article(
        value, max_article_bytes=settings.max_article_bytes, max_record_bytes=settings.max_record_bytes
    )
    if not article.fetched_at:
        article.fetched_at = now_rfc3339()
    return article


def line_item(raw: bytes, where: str, *, feed: str, settings: Settings) -> Article | RawRecord:
    try:
        return article_from_json(raw, feed=feed, settings=settings)
    except InvalidRecord as exc:
        return RawRecord(raw, f"{where}: {exc.reason}: {exc.detail}"[:300])


class JsonlFeed(BaseFeed):
    """A JSONL file or drop folder (see the module docstring)."""

    default_interval = 5.0

    def __init__(self, id: str, options: Mapping[str, Any], context: FeedContext | None = None) -> None:
        super().__init__(id, options, context)
        self.path = Path(self.opts.get("path", str)).expanduser()
        self.pattern: str = self.opts.get("pattern", str, "*.jsonl")
        self.settle = self.opts.number("settle", 1.0)
        self.move_done: bool = self.opts.get("move_done", bool, True)
        self.done_dir = self.path / self.opts.get("done_dir", str, "done")
        self.pace = self.opts.number("pace", 0.0)

    async def articles(self) -> AsyncIterator[Article | RawRecord]:
        if self.path.is_dir():
            for file in self.ready_files():
                async for item in self._read(file, 0):
                    yield item
                self._finish(file)  # after the last yield: every line was delivered
        elif self.path.exists():
            async for item in self._follow(self.path):
                yield item
        else:
            raise FeedError(f"{self.path} does not exist")

    # ---- folder mode --------------------------------------------------------------------------------
    def ready_files(self) -> list[Path]:
        now = time.time()
        files = []
        for file in self.path.glob(self.pattern):
            try:
                stat = file.stat()
            except FileNotFoundError:
                continue
            if not file.is_file() or now - stat.st_mtime < self.settle:
                continue
            if not self.move_done and self.state_get(f"done:{file.name}") == _signature(stat):
                continue
            files.append((stat.st_mtime, file.name, file))
        return [f for _, _, f in sorted(files)]

    def _finish(self, file: Path) -> None:
        if self.move_done:
            self.done_dir.mkdir(parents=True, exist_ok=True)
            target = self.done_dir / file.name
            if target.exists():
                target = self.done_dir / f"{file.stem}.{time.strftime('%Y%m%dT%H%M%S')}{file.suffix}"
            os.replace(file, target)
        else:
            self.state_set(f"done:{file.name}", _signature(file.stat()))

    # ---- file mode ----------------------------------------------------------------------------------
    async def _follow(self, file: Path) -> AsyncIterator[Article | RawRecord]:
        key = f"offset:{file.resolve()}"
        offset = int(self.state_get(key, "0") or 0)
        stat = file.stat()
        if stat.st_size < offset:  # truncated or replaced: start again (ids dedupe what was sent)
            offset = 0
        settled = time.time() - stat.st_mtime >= self.settle
        end = offset
        async for item, position in self._lines(file, offset, take_partial=settled):
            yield item
            end = position
        if end != offset:
            self.state_set(key, str(end))

    async def _read(self, file: Path, offset: int) -> AsyncIterator[Article | RawRecord]:
        async for item, _ in self._lines(file, offset, take_partial=True):
            yield item

    async def _lines(self, file: Path, offset: int, *, take_partial: bool) -> AsyncIterator[tuple[Any, int]]:
        with file.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
        if not take_partial and not data.endswith(b"\n"):
            data = data[: data.rfind(b"\n") + 1]
        number = _line_number(file, offset)
        position, end = offset, offset + len(data)
        # Records end at b"\n" only: bytes.splitlines also broke at a lone CR, which may be JSON whitespace.
        for line in data.split(b"\n"):
            number += 1
            position = min(position + len(line) + 1, end)  # past the line's b"\n" (the last may have none)
            raw = line.strip()
            if not raw:
                continue
            yield (
                line_item(raw, f"{file.name}:{number}", feed=self.id, settings=self.context.settings),
                position,
            )
            if self.pace:
                await asyncio.sleep(self.pace)


def _signature(stat: os.stat_result) -> str:
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _line_number(file: Path, offset: int) -> int:
    """Lines before ``offset`` (for messages naming file:line when following a file)."""
    if offset == 0:
        return 0
    with file.open("rb") as handle:
        return handle.read(offset).count(b"\n")
