"""``wirewatch lag``: consumer lag per group and partition."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import orjson

from ..broker import resolve_bootstrap
from ..lag import LagRow, parse_groups, read_lag
from ..settings import Settings


def print_table(rows: Sequence[LagRow], out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="consumer lag", show_lines=False)
    for name, justify in (
        ("group", "left"),
        ("topic", "left"),
        ("partition", "right"),
        ("committed", "right"),
        ("end", "right"),
        ("lag", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row.group,
            row.topic,
            str(row.partition),
            "-" if row.committed is None else str(row.committed),
            str(row.end),
            str(row.lag),
        )
    Console(file=out, width=max(100, Console(file=out).width)).print(table)


def cmd_lag(settings: Settings, args: argparse.Namespace) -> int:
    groups = [g for value in args.group or [] for g in parse_groups(value)]
    groups += parse_groups(settings.lag_groups)
    snapshot = asyncio.run(read_lag(settings, groups=groups, bootstrap=resolve_bootstrap(settings)))
    rows = [r for r in snapshot.rows if not args.nonzero or r.lag > 0]
    if args.json:
        sys.stdout.write(orjson.dumps([r.to_dict() for r in rows]).decode() + "\n")
    else:
        print_table(rows, sys.stdout)
        print(f"total lag: {sum(r.lag for r in rows)}")
    return 0


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """``wirewatch lag [--group G] [--json] [--nonzero]``."""
    lag = sub.add_parser("lag", help="consumer lag per group and partition (committed vs end offsets, from the broker)")
    lag.add_argument(
        "--group",
        action="append",
        metavar="G",
        help="also this consumer group (repeatable; WIREWATCH_LAG_GROUPS adds more)",
    )
    lag.add_argument("--json", action="store_true", help="a JSON array of rows")
    lag.add_argument("--nonzero", action="store_true", help="only partitions with lag")
    lag.set_defaults(func=cmd_lag)
    return lag
