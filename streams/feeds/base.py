"""The feed plugin API: what a feed is, what it reports, and the helpers every feed shares.

A **feed** is an object with

* ``id``: the unique name given in ``feeds.toml`` (also written into each Article's ``feed`` field);
* ``options``: the feed's TOML table (everything but ``id`` and ``type``);
* ``async def articles(self) -> AsyncIterator[Article | RawRecord]``: **one poll**. It yields the
  articles of one fetch and returns; the runner calls it again after the feed's :class:`Schedule`
  interval (with jitter), or after an exponential backoff when it raised. A source that streams
  (a socket, a message queue) may instead never return: the runner handles each article as it arrives.
  Code after the last ``yield`` runs only once the runner has delivered every article yielded before,
  so commit checkpoints there (an ETag, a file moved to ``done/``): if delivery fails, the generator
  is closed at the ``yield`` instead and the checkpoint is not taken.
* ``health() -> FeedHealth``: the feed's **live** counters object (the same object on every call).
  The runner records into it (fetched, new, duplicates, errors, next poll); the feed may add its own
  notes (``notes`` dict).
* optionally ``schedule: Schedule`` (interval, jitter, backoff) and ``async def aclose()``.

Raise any exception from ``articles()`` for a failed poll: the runner counts it, logs it and backs off;
one feed's failure never stops another. Raise :class:`FeedError` for an expected failure (HTTP 500,
malformed XML) to get a one-line log message instead of a traceback.

Feeds are built by a **factory** ``factory(id: str, options: dict, context: FeedContext) -> Feed``
(a class whose ``__init__`` has that signature is a factory) registered under the entry-point group
``wirewatch.feeds``. :class:`BaseFeed` implements everything but ``articles()``.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..records import Article
from ..settings import Settings
from .fulltext import FullTextFetcher, is_public_address

ENTRY_POINT_GROUP = "wirewatch.feeds"


class FeedError(RuntimeError):
    """An expected failure of one poll (bad status, malformed document, timeout): logged on one line."""


class FeedConfigError(ValueError):
    """``feeds.toml`` or a feed's options are wrong; the message names the feed and the option."""


@dataclass(frozen=True)
class RawRecord:
    """Bytes a feed could not turn into an Article, produced to ``news.raw`` unchanged so the worker
    dead-letters them with a reason (nothing a user feeds in disappears silently)."""

    value: bytes
    problem: str
    key: bytes | None = None

    @property
    def dedupe_id(self) -> str:
        return "raw:" + hashlib.sha256(self.value).hexdigest()[:32]


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class FeedHealth:
    """Counters of one feed since the runner started (times are epoch seconds)."""

    fetched: int = 0  # articles (and raw records) the feed yielded
    new: int = 0  # produced to news.raw
    duplicates: int = 0  # already seen (this run or an earlier one), not produced again
    invalid: int = 0  # raw records produced for the worker to dead-letter
    errors: int = 0  # failed polls
    consecutive_errors: int = 0
    polls: int = 0
    last_success: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    next_poll: float | None = None
    last_delay: float | None = None  # seconds the runner chose to wait before next_poll
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready snapshot (times as RFC 3339) for the dashboard and ``/metrics``."""
        out = asdict(self)
        for name in ("last_success", "last_error_at", "next_poll"):
            out[name] = _iso(out[name])
        return out


@dataclass(frozen=True)
class Schedule:
    """When to poll: every ``interval`` s (± ``jitter`` × interval); after ``n`` consecutive errors wait
    ``min(max_backoff, backoff × 2^(n-1))`` (± jitter)."""

    interval: float = 300.0
    jitter: float = 0.1
    backoff: float = 10.0
    max_backoff: float = 1800.0

    def delay(self, consecutive_errors: int, rng: random.Random | None = None) -> float:
        rng = rng or random
        if consecutive_errors <= 0:
            base = self.interval
        else:
            base = min(self.max_backoff, self.backoff * 2 ** min(consecutive_errors - 1, 30))
        spread = base * max(0.0, min(self.jitter, 1.0))
        return max(0.0, base + rng.uniform(-spread, spread))


@runtime_checkable
class Feed(Protocol):
    """What the runner needs from a feed (see the module docstring)."""

    id: str
    options: Mapping[str, Any]

    def articles(self) -> AsyncIterator[Article | RawRecord]: ...

    def health(self) -> FeedHealth: ...


FeedFactory = Callable[[str, dict[str, Any], "FeedContext"], Feed]


# ---- persistent state -----------------------------------------------------------------------------------
class FeedState:
    """Small persistent state in one sqlite file: seen article ids per feed (bounded) and per-feed
    key/value checkpoints (ETag, file offsets). ``":memory:"`` keeps it for this process only."""

    def __init__(self, path: str | Path = ":memory:", max_seen_per_feed: int = 50_000) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.max_seen_per_feed = max_seen_per_feed
        # One connection used from the event-loop thread only; autocommit keeps each mark durable.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")  # a standalone runner may read it concurrently
            # One fsync per checkpoint rather than per id: a crash of the process loses nothing, a power
            # loss at most the last ids (their articles are re-sent, a no-op downstream).
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (feed TEXT, id TEXT, at REAL, PRIMARY KEY (feed, id))")
        self._db.execute("CREATE INDEX IF NOT EXISTS seen_at ON seen (feed, at)")
        self._db.execute("CREATE TABLE IF NOT EXISTS kv (feed TEXT, key TEXT, value TEXT, PRIMARY KEY (feed, key))")
        self._marks = 0

    def seen(self, feed: str, item_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM seen WHERE feed = ? AND id = ?", (feed, item_id)).fetchone()
        return row is not None

    def mark(self, feed: str, item_id: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO seen VALUES (?, ?, ?)", (feed, item_id, time.time()))
        self._marks += 1
        if self._marks % 500 == 0:
            self.prune(feed)

    def prune(self, feed: str) -> None:
        """Forget the oldest ids beyond ``max_seen_per_feed`` (a feed never re-serves items that old)."""
        self._db.execute(
            "DELETE FROM seen WHERE feed = ? AND id NOT IN "
            "(SELECT id FROM seen WHERE feed = ? ORDER BY at DESC LIMIT ?)",
            (feed, feed, self.max_seen_per_feed),
        )

    def count(self, feed: str) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM seen WHERE feed = ?", (feed,)).fetchone()[0])

    def get(self, feed: str, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM kv WHERE feed = ? AND key = ?", (feed, key)).fetchone()
        return row[0] if row else default

    def set(self, feed: str, key: str, value: str | None) -> None:
        if value is None:
            self._db.execute("DELETE FROM kv WHERE feed = ? AND key = ?", (feed, key))
        else:
            self._db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (feed, key, value))

    def close(self) -> None:
        self._db.close()


@dataclass
class FeedContext:
    """What the runner lends to every feed: settings, the persistent state and a shared HTTP session
    (created lazily, inside the running loop)."""

    settings: Settings = field(default_factory=Settings)
    state: FeedState = field(default_factory=FeedState)
    user_agent: str = "wirewatch-feeds/0.1"
    _http: Any = None
    _fulltext: Any = None

    def http(self) -> Any:
        """The shared ``aiohttp.ClientSession`` (one connection pool for all feeds)."""
        if self._http is None or self._http.closed:
            import aiohttp

            self._http = aiohttp.ClientSession(headers={"User-Agent": self.user_agent}, auto_decompress=True)
        return self._http

    def fulltext(self, per_host: int = 2) -> Any:
        """The shared full-text fetcher (its per-host concurrency limit holds across feeds)."""
        if self._fulltext is None:
            allowed = None if self.settings.fetch_private_addresses else is_public_address
            self._fulltext = FullTextFetcher(per_host, allowed=allowed, user_agent=self.user_agent)
        return self._fulltext

    async def aclose(self) -> None:
        if self._http is not None and not self._http.closed:
            await self._http.close()
        self._http = None
        if self._fulltext is not None:
            await self._fulltext.aclose()


# ---- options --------------------------------------------------------------------------------------------
_MISSING = object()


class Options:
    """Typed access to a feed's TOML table; every mistake becomes a :class:`FeedConfigError` naming the
    feed and the option. ``unused()`` lists options nobody asked for (typos)."""

    def __init__(self, feed_id: str, raw: Mapping[str, Any]) -> None:
        self.feed_id = feed_id
        self.raw = dict(raw)
        self._asked: set[str] = set()

    def _error(self, name: str, message: str) -> FeedConfigError:
        return FeedConfigError(f"feed {self.feed_id!r}: option {name!r} {message}")

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        self._asked.add(name)
        if name not in self.raw:
            if default is _MISSING:
                raise self._error(name, "is required")
            return default
        value = self.raw[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in kinds:
            raise self._error(name, f"must be {_names(kinds)}, not a boolean")
        if not isinstance(value, kinds):
            raise self._error(name, f"must be {_names(kinds)}, not {type(value).__name__} {value!r}")
        return value

    def number(self, name: str, default: float, minimum: float = 0.0) -> float:
        value = self.get(name, float, default)
        if value < minimum:
            raise self._error(name, f"must be at least {minimum:g}, not {value!r}")
        return float(value)

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        value = self.get(name, int, default)
        if value < minimum:
            raise self._error(name, f"must be at least {minimum}, not {value!r}")
        return int(value)

    def unused(self) -> list[str]:
        return sorted(set(self.raw) - self._asked)


def _names(kinds: tuple[type, ...]) -> str:
    words = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(words.get(k, k.__name__) for k in kinds)


class BaseFeed:
    """Base class for feeds: parses the common options and keeps the :class:`FeedHealth`.

    Common options: ``interval`` (s, default :attr:`default_interval`), ``jitter`` (fraction, 0.1),
    ``backoff`` (first wait after an error, s, 10), ``max_backoff`` (s, 1800). Subclasses read their
    own options from ``self.opts`` in ``__init__`` and implement :meth:`articles`; unknown options are
    refused after ``__init__`` by the loader (call :meth:`check_options` yourself if you build feeds by
    hand).
    """

    default_interval: float = 300.0

    def __init__(self, id: str, options: Mapping[str, Any], context: FeedContext | None = None) -> None:
        self.id = id
        self.options = dict(options)
        self.context = context or FeedContext()
        self.opts = Options(id, options)
        self.schedule = Schedule(
            interval=self.opts.number("interval", self.default_interval),
            jitter=self.opts.number("jitter", 0.1),
            backoff=self.opts.number("backoff", 10.0),
            max_backoff=self.opts.number("max_backoff", 1800.0),
        )
        self._health = FeedHealth()

    def check_options(self) -> None:
        unused = self.opts.unused()
        if unused:
            raise FeedConfigError(f"feed {self.id!r}: unknown option(s) {', '.join(map(repr, unused))}")

    def health(self) -> FeedHealth:
        return self._health

    # The state helpers namespace keys by feed id, so two feeds never share a checkpoint.
    def state_get(self, key: str, default: str | None = None) -> str | None:
        return self.context.state.get(self.id, key, default)

    def state_set(self, key: str, value: str | None) -> None:
        self.context.state.set(self.id, key, value)

    def articles(self) -> AsyncIterator[Article | RawRecord]:  # pragma: no cover - abstract
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release resources (the shared HTTP session belongs to the context, not to the feed)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}>"
