"""News feeds: the plugin API, the built-in feeds (RSS/Atom, JSONL, HTTP push) and their runner.

See ``base.py`` for the plugin protocol and ``README_SECTION.md`` for ``feeds.toml``.
"""

from __future__ import annotations

from .base import (
    ENTRY_POINT_GROUP,
    BaseFeed,
    Feed,
    FeedConfigError,
    FeedContext,
    FeedError,
    FeedHealth,
    FeedState,
    RawRecord,
    Schedule,
)
from .config import FeedConfig, build_feed, build_feeds, feed_types, load_config, parse_config

__all__ = [
    "ENTRY_POINT_GROUP",
    "BaseFeed",
    "Feed",
    "FeedConfig",
    "FeedConfigError",
    "FeedContext",
    "FeedError",
    "FeedHealth",
    "FeedState",
    "RawRecord",
    "Schedule",
    "build_feed",
    "build_feeds",
    "feed_types",
    "load_config",
    "parse_config",
]
