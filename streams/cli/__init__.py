"""The ``wirewatch`` command line: one module per command group, registered in :data:`COMMAND_GROUPS`
(the one place a command is added)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from wirewatch.agents.learning import train_cli
from wirewatch.agents.learning.linear import ModelFileError
from wirewatch.agents.lexicons import LexiconError

from ..broker import BrokerError
from ..feeds.base import FeedConfigError
from ..settings import Settings, SettingsError
from ..store import QueryError, StoreError
from . import alerts, analysis, feeds, ingest, lag, search, subscriptions, worker
from .ingest import InputError

#: Each group's ``add_parser(sub)`` adds its commands, in the order ``wirewatch --help`` lists them.
COMMAND_GROUPS = (worker, ingest, analysis, alerts, subscriptions, feeds, lag, search, train_cli)
#: The errors a command ends with: what the message says after "wirewatch: ", and the exit code (2: the
#: user's input or configuration is wrong). The first entry the error is an instance of applies.
COMMAND_ERRORS: tuple[tuple[type[Exception], str, int], ...] = (
    (BrokerError, "", 1),
    (InputError, "", 2),  # a file named on the command line: missing, unreadable, a bad line
    (LexiconError, "lexicon error: ", 2),
    (ModelFileError, "model error: ", 2),
    (SettingsError, "configuration error: ", 2),  # a sink's configuration, checked when the worker starts
    (FeedConfigError, "feed configuration error: ", 2),
    (QueryError, "bad query: ", 2),
    (StoreError, "archive: ", 1),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirewatch",
        description="Streaming news processor: entities, stances and missile-launch alerts on Kafka.",
        epilog="Configuration comes from WIREWATCH_* environment variables (see the README).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        parser.exit(2, f"wirewatch: configuration error: {exc}\n")
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_level.lower() != "debug":
        logging.getLogger("aiokafka").setLevel(logging.WARNING)  # client chatter is noise in a CLI
    try:
        rc = int(args.func(settings, args) or 0)
        sys.stdout.flush()  # a reader that has gone shows here, in the handler below, not at interpreter exit
        return rc
    except tuple(error for error, _, _ in COMMAND_ERRORS) as exc:
        label, code = next((label, code) for error, label, code in COMMAND_ERRORS if isinstance(exc, error))
        print(f"wirewatch: {label}{exc}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`wirewatch alerts tail | head`): stop quietly, as Unix tools do. Point
        # stdout at /dev/null so the interpreter's final flush does not raise a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the signal
