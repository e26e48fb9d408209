"""``wirewatch feeds list | check | run``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import orjson

from ..feeds.base import Feed, FeedConfigError, FeedContext, FeedState
from ..feeds.config import FeedConfig, build_feed, feed_types, load_config
from ..feeds.runner import CallbackProducer, FeedRunner, run_standalone, state_for
from ..settings import Settings
from ..validation import InvalidRecord, parse_article

DEFAULT_CONFIG = "feeds.toml"


def config_path(settings: Settings, args: argparse.Namespace) -> str:
    """``--config``, else the ``feeds`` setting (``WIREWATCH_FEEDS``) when it exists, else ./feeds.toml."""
    return args.config or settings.feeds or DEFAULT_CONFIG


# ---- list -----------------------------------------------------------------------------------------------
def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    path = config_path(settings, args)
    types = feed_types()
    configs: list[FeedConfig] = []
    problem = None
    if Path(path).exists():
        try:
            configs = load_config(path)
        except FeedConfigError as exc:
            problem = str(exc)
    else:
        problem = f"no feed configuration at {path}"
    seen: dict[str, int] = {}
    state_file = settings.data_path / "feeds.sqlite"
    if state_file.exists():
        state = state_for(settings)
        seen = {c.id: state.count(c.id) for c in configs}
        state.close()
    if args.json:
        out = {
            "config": path,
            "problem": problem,
            "feeds": [{"id": c.id, "type": c.type, "options": c.options, "seen": seen.get(c.id, 0)} for c in configs],
            "types": [{"name": t.name, "target": t.target, "source": t.source} for t in types.values()],
        }
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 2 if problem and Path(path).exists() else 0
    print(f"configured feeds ({path}):")
    if problem:
        print(f"  {problem}")
    for c in configs:
        where = c.options.get("url") or c.options.get("path") or ""
        known = "" if c.type in types else "  [unknown type]"
        print(f"  {c.id:<24} {c.type:<8} {where}  (seen {seen.get(c.id, 0)}){known}")
    print("installed feed types:")
    for t in sorted(types.values(), key=lambda t: t.name):
        print(f"  {t.name:<10} {t.target:<48} {t.source}")
    return 2 if problem and Path(path).exists() else 0


# ---- check ----------------------------------------------------------------------------------------------
def check_feed(settings: Settings, args: argparse.Namespace, context: FeedContext) -> Feed:
    """The feed ``args.target`` names: a configured id, an http(s) URL (RSS/Atom) or a JSONL path."""
    target: str = args.target
    overrides: dict[str, Any] = {}
    if args.max_items is not None:
        overrides["max_items"] = args.max_items
    if args.full_text:
        overrides["full_text"] = True
    if target.startswith(("http://", "https://")):
        return build_feed(FeedConfig("check", "rss", {"url": target, **overrides}), context)
    path = config_path(settings, args)
    if Path(path).exists():
        for config in load_config(path):
            if config.id == target:
                return build_feed(FeedConfig(config.id, config.type, {**config.options, **overrides}), context)
    if Path(target).exists():
        return build_feed(FeedConfig("check", "jsonl", {"path": target, "move_done": False}), context)
    raise FeedConfigError(f"{target!r} is not a feed id in {path}, an http(s) URL or a JSONL path")


async def check(settings: Settings, args: argparse.Namespace, out: Any = None) -> int:
    """Poll once and print the parsed Articles as JSONL; produces nothing and keeps no state."""
    out = out or sys.stdout
    context = FeedContext(settings=settings, state=FeedState(":memory:"))

    def emit(key: bytes | None, value: bytes) -> None:
        try:  # the worker's own validation: stdout stays JSONL of Articles
            parse_article(
                value, max_article_bytes=settings.max_article_bytes, max_record_bytes=settings.max_record_bytes
            )
        except InvalidRecord as exc:
            shown = value[:200].decode("utf-8", errors="replace")
            print(f"not an article, the worker would dead-letter it ({exc}): {shown}", file=sys.stderr)
            return
        out.write(value.decode("utf-8", errors="replace") + "\n")
        out.flush()

    feed = check_feed(settings, args, context)
    runner = FeedRunner([feed], CallbackProducer(emit), context)
    try:
        result = (await runner.run_once())[feed.id]
    finally:
        await runner.aclose()
        context.state.close()
    health = feed.health()
    if result is None:
        print(f"feed {feed.id}: {health.last_error}", file=sys.stderr)
        return 1
    print(
        f"feed {feed.id}: {result.fetched} item(s), {result.invalid} invalid"
        + (f"; notes {health.notes}" if health.notes else ""),
        file=sys.stderr,
    )
    return 0


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return asyncio.run(check(settings, args))
    except FeedConfigError as exc:
        print(f"wirewatch feeds: {exc}", file=sys.stderr)
        return 2


# ---- run ------------------------------------------------------------------------------------------------
def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    path = config_path(settings, args)
    try:
        healths = asyncio.run(run_standalone(settings, path, once=args.once))
    except FeedConfigError as exc:
        print(f"wirewatch feeds: {exc}", file=sys.stderr)
        return 2
    for feed_id, health in healths.items():
        print(f"{feed_id}: {orjson.dumps(health.to_dict()).decode()}")
    return 1 if args.once and any(h.last_success is None for h in healths.values()) else 0


def add_parser(sub: Any) -> None:
    """Add ``wirewatch feeds list|check|run`` to the top-level subparsers."""
    feeds = sub.add_parser("feeds", help="news feeds: list, check one, run them standalone")
    fsub = feeds.add_subparsers(dest="feeds_command", required=True)
    config_help = f"feeds.toml to use (default: WIREWATCH_FEEDS, else ./{DEFAULT_CONFIG})"

    listing = fsub.add_parser("list", help="configured feeds and installed feed types")
    listing.add_argument("--config", default=None, metavar="FILE", help=config_help)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_list)

    checking = fsub.add_parser("check", help="fetch a feed once and print its Articles as JSONL (produces nothing)")
    checking.add_argument(
        "target", metavar="ID|URL|FILE", help="a feed id of feeds.toml, an RSS/Atom URL or a JSONL path"
    )
    checking.add_argument("--config", default=None, metavar="FILE", help=config_help)
    checking.add_argument("--max-items", type=int, default=None, metavar="N", help="cap on items")
    checking.add_argument("--full-text", action="store_true", help="fetch each item's page (RSS/Atom)")
    checking.set_defaults(func=cmd_check)

    running = fsub.add_parser("run", help="run the feeds standalone: produce to news.raw (no processing)")
    running.add_argument("--config", default=None, metavar="FILE", help=config_help)
    running.add_argument("--once", action="store_true", help="poll every feed once and exit")
    running.set_defaults(func=cmd_run)
