"""``wirewatch run`` and ``wirewatch demo``: a worker, with the embedded broker when none is configured."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Any

from ..broker import (
    EmbeddedBroker,
    embedded_broker_for_run,
    ensure_topics,
    forget_address,
    free_port,
    port_is_free,
    record_address,
    terminate_as_interrupt,
)
from ..feeds.runner import register_demo, register_runner
from ..settings import Settings


def add_parser(sub: Any) -> None:
    run = sub.add_parser("run", help="run a worker (starts the embedded broker when WIREWATCH_BROKER is unset)")
    run.set_defaults(func=cmd_run, demo=False)
    demo = sub.add_parser("demo", help="run a worker and replay the bundled sample feed")
    demo.set_defaults(func=cmd_run, demo=True)


@contextlib.contextmanager
def broker_for_run(settings: Settings) -> Iterator[Settings]:
    """Yield settings with a reachable broker: the configured one, or an embedded Tansu we own."""
    # until Faust installs its own handlers, SIGTERM must unwind through `finally` so Tansu is stopped
    signal.signal(signal.SIGTERM, terminate_as_interrupt)
    embedded: EmbeddedBroker | None = None
    try:
        if not settings.broker:
            embedded = embedded_broker_for_run(settings)
            settings = settings.with_(broker=f"kafka://{embedded.bootstrap}")
            print(f"wirewatch: embedded Tansu broker listening on {embedded.bootstrap}", flush=True)
        created = asyncio.run(ensure_topics(settings))
        if created:
            print(f"wirewatch: created topics {', '.join(created)}", flush=True)
        record_address(settings, ",".join(settings.bootstrap_servers), embedded=embedded is not None)
        yield settings
    finally:
        forget_address(settings)
        if embedded is not None:
            embedded.stop()
            print("wirewatch: embedded broker stopped", flush=True)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    # Heavy (Faust, spaCy): kept off the CLI's start.
    from ..app import create_pipeline, internal_topics, run_worker
    from ..sinks import load_sinks

    sinks = load_sinks(settings)  # a bad webhooks/sinks file stops the worker before the broker starts
    with broker_for_run(settings) as live:
        if not port_is_free(live.web_port, live.web_host):
            # A second worker on the same host: take a free port rather than fail.
            live = live.with_(web_port=free_port(live.web_host))
        pipeline = create_pipeline(live, sinks=sinks)
        asyncio.run(ensure_topics(live, extra=internal_topics(pipeline.app)))
        if live.feeds:
            pipeline.feed_runner = register_runner(pipeline, live.feeds)
        if getattr(args, "demo", False):
            demo = register_demo(pipeline)
            # The dashboard shows one runner's feeds: the configured ones, else the sample's.
            pipeline.feed_runner = pipeline.feed_runner or demo
        print(
            f"wirewatch: worker '{live.app_id}' on {live.broker}; web http://{live.web_host}:{live.web_port}/",
            flush=True,
        )
        run_worker(pipeline)
    return 0
