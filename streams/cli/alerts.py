"""``wirewatch alerts tail``: print alerts from news.alerts as they arrive."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from ..broker import resolve_bootstrap
from ..settings import Settings
from ..tail import SEVERITY_RANK, alert_filter, tail_alerts


def cmd_alerts_tail(settings: Settings, args: argparse.Namespace) -> int:
    bootstrap = resolve_bootstrap(settings)
    asyncio.run(
        tail_alerts(
            settings,
            bootstrap,
            keep=alert_filter(args.kind, args.min_severity, args.actor),
            as_json=args.json,
            from_beginning=args.from_beginning,
            out=sys.stdout,
            limit=args.limit,
            idle_timeout=args.idle_timeout,
        )
    )
    return 0


def add_parser(sub: Any) -> None:
    alerts = sub.add_parser("alerts", help="subscribe to alerts")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True)
    tail = alerts_sub.add_parser("tail", help="print alerts from news.alerts as they arrive")
    tail.add_argument("--kind", action="append", help="only these kinds (repeatable), e.g. icbm")
    tail.add_argument("--min-severity", choices=list(SEVERITY_RANK), help="only this severity or higher")
    tail.add_argument("--actor", action="append", help="only these actors (canonical names, repeatable)")
    tail.add_argument("--from-beginning", action="store_true", help="start at the oldest alert, not the newest")
    tail.add_argument("--json", action="store_true", help="one Alert JSON object per line")
    tail.add_argument("--limit", type=int, default=None, metavar="N", help="stop after N alerts")
    tail.add_argument(
        "--idle-timeout", type=float, default=None, metavar="S", help="stop after S seconds with no alert"
    )
    tail.set_defaults(func=cmd_alerts_tail)
