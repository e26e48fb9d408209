"""``feeds.toml`` and the plugin registry (entry-point group ``wirewatch.feeds``).

Format::

    [[feed]]
    id = "example-wire"          # unique; written into each Article's `feed`
    type = "rss"                 # an installed feed type: `wirewatch feeds list`
    url = "https://example.org/world/rss.xml"
    interval = 300               # every other key is an option of that feed type

Built-in types are registered under the same group by wirewatch's own distribution; the table
:data:`BUILTINS` keeps them available when the installed metadata predates them (an editable install).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ..tomlconfig import id_tables, read_toml
from .base import ENTRY_POINT_GROUP, BaseFeed, Feed, FeedConfigError, FeedContext, FeedFactory

log = logging.getLogger(__name__)

#: Built-in feed types (name → "module:attribute"), the same targets as wirewatch's entry points.
BUILTINS: dict[str, str] = {
    "rss": "wirewatch.streams.feeds.rss:RssFeed",
    "atom": "wirewatch.streams.feeds.rss:RssFeed",
    "jsonl": "wirewatch.streams.feeds.jsonl:JsonlFeed",
}


@dataclass(frozen=True)
class FeedType:
    """One installed feed type: its name, where it comes from and how to load it."""

    name: str
    target: str  # "module:attribute"
    source: str  # "builtin" or the distribution that registered it

    def load(self) -> FeedFactory:
        return metadata.EntryPoint(self.name, self.target, ENTRY_POINT_GROUP).load()


def feed_types() -> dict[str, FeedType]:
    """Every installed feed type. A plugin cannot replace a built-in name (it is logged and ignored)."""
    types = {name: FeedType(name, target, "builtin") for name, target in BUILTINS.items()}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(getattr(ep, "dist", None), "name", None) or "unknown"
        known = types.get(ep.name)
        if known is not None:
            if known.target != ep.value:
                log.warning("feed type %r from %s ignored: it is a built-in name", ep.name, dist)
            continue
        types[ep.name] = FeedType(ep.name, ep.value, dist)
    return types


@dataclass(frozen=True)
class FeedConfig:
    """One ``[[feed]]`` table."""

    id: str
    type: str
    options: dict[str, Any] = field(default_factory=dict)


def parse_config(data: Mapping[str, Any], source: str = "feeds.toml") -> list[FeedConfig]:
    """The ``[[feed]]`` tables of a parsed TOML document, checked for ids and types."""
    configs: list[FeedConfig] = []
    for feed_id, table in id_tables(data, "feed", source, FeedConfigError):
        kind = table.get("type")
        if not isinstance(kind, str) or not kind:
            raise FeedConfigError(f"{source}: feed {feed_id!r}: option 'type' is required (e.g. \"rss\")")
        options = {k: v for k, v in table.items() if k not in ("id", "type")}
        configs.append(FeedConfig(feed_id, kind, options))
    return configs


def load_config(path: str | Path) -> list[FeedConfig]:
    """Read and check ``feeds.toml``; a missing file or bad TOML is a :class:`FeedConfigError`."""
    data = read_toml(path, "feed configuration", FeedConfigError)
    return parse_config(data, str(path))


def build_feed(config: FeedConfig, context: FeedContext, types: Mapping[str, FeedType] | None = None) -> Feed:
    """Instantiate one configured feed; errors name the feed (unknown type, bad or unknown options)."""
    types = feed_types() if types is None else types
    feed_type = types.get(config.type)
    if feed_type is None:
        raise FeedConfigError(
            f"feed {config.id!r}: unknown type {config.type!r} (installed: {', '.join(sorted(types))})"
        )
    try:
        factory = feed_type.load()
    except Exception as exc:  # a broken plugin must name itself, not crash the loader anonymously
        raise FeedConfigError(
            f"feed {config.id!r}: cannot load type {config.type!r} ({feed_type.target}): {exc}"
        ) from exc
    try:
        feed = factory(config.id, dict(config.options), context)
    except FeedConfigError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise FeedConfigError(f"feed {config.id!r} (type {config.type!r}): {exc}") from exc
    if isinstance(feed, BaseFeed):
        feed.check_options()
    if not isinstance(feed, Feed):
        raise FeedConfigError(f"feed {config.id!r}: type {config.type!r} did not build a feed (got {feed!r})")
    return feed


def build_feeds(configs: list[FeedConfig], context: FeedContext) -> list[Feed]:
    types = feed_types()
    return [build_feed(c, context, types) for c in configs]
