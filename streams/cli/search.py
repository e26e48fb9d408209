"""``wirewatch search``, ``wirewatch incidents`` and ``wirewatch archive``: the archive from the command line
(read straight from the store WIREWATCH_STORE names; no worker needed)."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import Any, TextIO

import orjson

from ..archive import Archiver
from ..broker import resolve_bootstrap
from ..settings import Settings
from ..store import Store, incident_request, open_store, search_request
from ..web.archive import displayed

#: Terminal control characters (ANSI escapes start with ESC) are not printed from article text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _text(value: Any) -> str:
    return _CONTROL.sub("", str(value if value is not None else "–"))


def _print_table(out: TextIO, title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console  # kept off the CLI's start
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*[cell if isinstance(cell, Text) else Text(_text(cell)) for cell in row])
    Console(file=out, width=max(120, Console(file=out).width)).print(table)


def _snippet(segments: list[dict[str, Any]]) -> Any:
    from rich.text import Text  # kept off the CLI's start

    text = Text()
    for segment in segments:
        text.append(_text(segment["text"]).replace("\n", " "), style="bold" if segment["hit"] else None)
    return text


def _run(settings: Settings, work: Any) -> int:
    """``work(store)`` on the archive WIREWATCH_STORE names, closed after; its QueryError and StoreError are
    reported by the CLI's main like every command's errors (``COMMAND_ERRORS``)."""
    store = open_store(settings)
    try:
        return int(work(store) or 0)
    finally:
        store.close()


def cmd_search(settings: Settings, args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    def work(store: Store) -> int:
        request = search_request(
            args.query,
            actor=args.actor,
            kind=args.kind,
            modality=args.modality,
            feed=args.feed,
            since=args.since,
            until=args.until,
            limit=args.limit,
            order=args.order,
        )
        page = store.search(request)
        results = displayed(page.results)
        if args.json:
            for result in results:
                out.write(orjson.dumps(result).decode() + "\n")
            return 0
        rows = [
            [r["published_at"], r["feed"], _snippet(r["title_highlight"]), _snippet(r["snippet"]), r["id"]]
            for r in results
        ]
        _print_table(
            out,
            f"{len(rows)} article(s) for {page.query or 'everything'}",
            ["published", "feed", "title", "snippet", "id"],
            rows,
        )
        return 0

    return _run(settings, work)


def cmd_incidents(settings: Settings, args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    def work(store: Store) -> int:
        filters = incident_request(
            actor=args.actor, kind=args.kind, since=args.since, until=args.until, limit=args.limit
        )
        incidents = displayed(store.incidents(filters))
        if args.json:
            for incident in incidents:
                out.write(orjson.dumps(incident).decode() + "\n")
            return 0
        rows = [
            [
                i["id"],
                i["kind"],
                i["modality"],
                i["actor"],
                i["first_seen"],
                i["last_seen"],
                i["report_count"],
                ", ".join(i["outlets"]),
                i["headline"],
            ]
            for i in incidents
        ]
        columns = ["id", "kind", "modality", "actor", "first report", "last report", "reports", "outlets", "headline"]
        _print_table(out, f"{len(rows)} incident(s)", columns, rows)
        return 0

    return _run(settings, work)


def cmd_archive(settings: Settings, args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    bootstrap = resolve_bootstrap(settings)

    def work(store: Store) -> int:
        archiver = Archiver(settings.with_(broker=";".join(bootstrap)), store)
        written = asyncio.run(archiver.catch_up(args.from_beginning))
        counts = store.counts()
        out.write(orjson.dumps({"written": written, "store": counts}).decode() + "\n")
        return 0

    return _run(settings, work)


def add_parser(sub: Any) -> None:
    search = sub.add_parser("search", help="search the archive of enriched articles")
    search.add_argument("query", nargs="?", default="", help='words, "phrases", OR, -excluded (empty: newest)')
    search.add_argument("--actor", help="only articles about this actor (canonical name)")
    search.add_argument("--kind", help="only articles reporting this kind of launch, e.g. icbm")
    search.add_argument("--modality", help="occurred, possible or threatened")
    search.add_argument("--feed", help="only this feed")
    search.add_argument("--since", help="published at or after (2019-12-01 or an RFC 3339 time)")
    search.add_argument("--until", help="published before (2019-12-01 or an RFC 3339 time)")
    search.add_argument("--limit", type=int, default=20, metavar="N", help="at most N articles (1-100)")
    search.add_argument("--order", choices=["relevance", "time"], help="default: relevance with a query")
    search.add_argument("--json", action="store_true", help="one JSON object per line")
    search.set_defaults(func=cmd_search)

    incidents = sub.add_parser("incidents", help="list incidents from the archive, newest first")
    incidents.add_argument("--actor", help="only this actor (canonical name)")
    incidents.add_argument("--kind", help="only this kind, e.g. icbm")
    incidents.add_argument("--since", help="last report at or after (2019-12-01 or an RFC 3339 time)")
    incidents.add_argument("--until", help="first report before (2019-12-01 or an RFC 3339 time)")
    incidents.add_argument("--limit", type=int, default=100, metavar="N", help="at most N incidents (1-200)")
    incidents.add_argument(
        "--json", action="store_true", help="one JSON object per line (id, kind, modality, actor, reports...)"
    )
    incidents.set_defaults(func=cmd_incidents)

    archive = sub.add_parser("archive", help="bring the archive up to date with the topics, then stop")
    archive.add_argument(
        "--from-beginning", action="store_true", help="rebuild from the oldest record of every topic (upserts)"
    )
    archive.set_defaults(func=cmd_archive)
