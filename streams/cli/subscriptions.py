"""``wirewatch subscriptions list | export | add | test | remove``: the subscriptions stored on
``news.subscriptions`` (the same list as ``/api/subscriptions``). A subscription that fails the checks exits 2
naming the field. ``list`` never prints a credential (see ``model.SECRET_OPTIONS``); ``export`` does, for a
backup or a move, in the JSON ``add`` reads back."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import orjson

from ..broker import resolve_bootstrap
from ..settings import Settings
from ..subscriptions.model import SubscriptionError, parse_subscription
from ..subscriptions.router import send_test
from ..subscriptions.store import SubscriptionStore, load_file


def _store(settings: Settings) -> SubscriptionStore:
    return SubscriptionStore(settings, resolve_bootstrap(settings))


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    subs = asyncio.run(_store(settings).read_all())
    if args.json:
        print(orjson.dumps([s.to_dict(secrets=False) for s in subs.values()], option=orjson.OPT_INDENT_2).decode())
        return 0
    if not subs:
        print("no subscriptions")
    for sub in subs.values():
        channels = ", ".join(
            c.type + (f" (digest {c.every_hours:g}h)" if c.mode == "digest" else "") for c in sub.channels
        )
        print(f"{sub.id:<24} {sub.owner or '-':<20} {channels}  filter={orjson.dumps(sub.filter.to_dict()).decode()}")
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    subs = asyncio.run(_store(settings).read_all())
    text = orjson.dumps([s.to_dict() for s in subs.values()], option=orjson.OPT_INDENT_2).decode() + "\n"
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    try:  # readable by its owner only (an existing file too): it holds the credentials
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        print(f"wirewatch: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"exported {len(subs)} subscription(s) to {out}", file=sys.stderr)
    return 0


def _read(source: str) -> list[Any]:
    """Subscriptions from a TOML file ([[subscription]] tables), a JSON file or inline JSON."""
    if source.endswith(".toml"):
        return load_file(source)
    text = Path(source).read_text(encoding="utf-8") if Path(source).exists() else source
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise SubscriptionError("body", f"not JSON: {exc}") from None
    return [parse_subscription(d) for d in (data if isinstance(data, list) else [data])]


def cmd_add(settings: Settings, args: argparse.Namespace) -> int:
    try:
        subs = _read(args.source)
    except SubscriptionError as exc:
        print(f"wirewatch: invalid subscription: {exc}", file=sys.stderr)
        return 2
    store = _store(settings)
    existing = asyncio.run(store.read_all())
    clash = [s.id for s in subs if s.id in existing]
    if clash and not args.replace:
        print(f"wirewatch: subscription(s) exist: {', '.join(clash)} (use --replace)", file=sys.stderr)
        return 1
    asyncio.run(store.write(subs))
    for sub in subs:
        print(f"stored {sub.id}")
    return 0


def cmd_remove(settings: Settings, args: argparse.Namespace) -> int:
    store = _store(settings)
    if args.id not in asyncio.run(store.read_all()):
        print(f"wirewatch: no subscription {args.id!r}", file=sys.stderr)
        return 1
    asyncio.run(store.write(deletes=[args.id]))
    print(f"removed {args.id}")
    return 0


def cmd_test(settings: Settings, args: argparse.Namespace) -> int:
    sub = asyncio.run(_store(settings).read_all()).get(args.id)
    if sub is None:
        print(f"wirewatch: no subscription {args.id!r}", file=sys.stderr)
        return 1
    failed = 0
    for channel, result in asyncio.run(send_test(settings, sub)):
        if result is None:
            print(f"{channel}: nothing to send (readers poll /feeds/{sub.id}.atom)")
            continue
        print(result.describe())  # names the channel: korea-desk/0:email: delivered after 1 attempt
        failed += not result.ok
    return 1 if failed else 0


def add_parser(sub: Any) -> None:
    group = sub.add_parser("subscriptions", help="saved alert rules and where they are delivered")
    commands = group.add_subparsers(dest="subscriptions_command", required=True)
    listing = commands.add_parser("list", help="the stored subscriptions")
    listing.add_argument("--json", action="store_true", help="as JSON, credentials redacted")
    listing.set_defaults(func=cmd_list)
    export = commands.add_parser(
        "export", help="the stored subscriptions as JSON with their credentials, for a backup or 'add' elsewhere"
    )
    export.add_argument("--out", default="-", help="file to write (mode 0600); default: standard output")
    export.set_defaults(func=cmd_export)
    add = commands.add_parser("add", help="store subscriptions from a TOML or JSON file, or inline JSON")
    add.add_argument("source", help="subscriptions.toml, subscription.json or a JSON object")
    add.add_argument("--replace", action="store_true", help="overwrite subscriptions with the same id")
    add.set_defaults(func=cmd_add)
    test = commands.add_parser("test", help="send a sample alert through a subscription's channels")
    test.add_argument("id")
    test.set_defaults(func=cmd_test)
    remove = commands.add_parser("remove", help="delete a subscription")
    remove.add_argument("id")
    remove.set_defaults(func=cmd_remove)
