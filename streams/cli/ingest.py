"""``wirewatch ingest``: produce articles to news.raw."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from ..broker import resolve_bootstrap
from ..feeds.runner import StandaloneProducer
from ..records import Article, article_id, dumps, now_rfc3339
from ..settings import Settings
from ..topics import RAW
from ..validation import InvalidRecord, check_depth


def add_parser(sub: Any) -> None:
    ingest = sub.add_parser("ingest", help="produce articles (JSONL of Article fields, or --text files) to news.raw")
    ingest.add_argument("files", nargs="+", metavar="FILE", help="JSONL file(s), or - for stdin")
    ingest.add_argument("--text", action="store_true", help="each FILE is one plain-text article")
    ingest.add_argument("--title", default="", help="title for --text articles (default: the headline, see README)")
    ingest.add_argument("--url", default=None, help="URL for a --text article (its id is then the URL's hash)")
    ingest.add_argument("--feed", default="cli", help="feed name recorded in the articles (default: cli)")
    ingest.set_defaults(func=cmd_ingest)


class InputError(Exception):
    """A file named on the command line that cannot be read, or is not what the command takes."""

    @classmethod
    def unreadable(cls, path: str | Path, exc: OSError) -> InputError:
        return cls(f"cannot read {path}: {exc.strerror or exc}")


def _read_input(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise InputError.unreadable(path, exc) from exc


def _read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError.unreadable(path, exc) from exc


def ingest_records(args: argparse.Namespace) -> Iterator[tuple[bytes | None, bytes, str | None]]:
    """(key, value, problem) per record to produce. Lines that are not Article JSON are produced as they
    are: the worker dead-letters them with a reason, so nothing a user feeds in disappears silently."""
    for path in args.files:
        if args.text:
            article = Article.from_plain_text(_read_input(path), url=args.url, title=args.title, feed=args.feed)
            yield article.id.encode(), article.to_bytes(), None
            continue
        data = _read_bytes(path)
        # Records end at b"\n" only (JSON Lines): str.splitlines also broke at U+2028, U+0085 and a lone CR,
        # each of which may sit inside one valid JSON record.
        for number, line in enumerate(data.split(b"\n"), 1):
            raw = line.strip()
            if not raw:
                continue
            try:
                fields = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield None, raw, f"{path}:{number}: not JSON ({exc})"
                continue
            if not isinstance(fields, dict) or not isinstance(fields.get("text"), str):
                yield None, raw, f"{path}:{number}: not an Article object with a text"
                continue
            try:
                check_depth(fields)  # before writing it again: orjson refuses values nested over 254 levels
            except InvalidRecord as exc:
                yield None, raw, f"{path}:{number}: {exc.detail}"
                continue
            if not fields.get("id"):
                try:
                    fields["id"] = article_id(fields.get("url"), fields.get("title"), fields["text"])
                except (TypeError, ValueError, AttributeError) as exc:  # the worker dead-letters it: bad_url...
                    yield None, raw, f"{path}:{number}: no article id can be made from its url and title ({exc})"
                    continue
            fields.setdefault("feed", args.feed)
            fields.setdefault("fetched_at", now_rfc3339())
            yield str(fields["id"]).encode(), dumps(fields), None


async def _produce(settings: Settings, bootstrap: list[str], records: Sequence[tuple[bytes | None, bytes]]) -> None:
    producer = await StandaloneProducer(settings, bootstrap).start()
    try:
        await producer.send_many(records)
    finally:
        await producer.stop()


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    bootstrap = resolve_bootstrap(settings)
    records: list[tuple[bytes | None, bytes]] = []
    problems = 0
    for key, value, problem in ingest_records(args):
        if problem:
            problems += 1
            print(f"warning: {problem}; sent as is, the worker will dead-letter it", file=sys.stderr)
        records.append((key, value))
    asyncio.run(_produce(settings, bootstrap, records))
    print(
        f"ingested {len(records)} record(s) into {settings.topic(RAW)} on {','.join(bootstrap)}"
        + (f" ({problems} invalid)" if problems else "")
    )
    return 0
