"""Faust's aiokafka transport with the consumer's fetch wait taken from wirewatch's settings, and a Faust
worker whose shutdown is bounded.

faust-streaming creates its consumer with ``fetch_max_wait_ms=1500`` fixed. Apache Kafka answers a fetch
as soon as data arrives, so that only bounds idle polling; Tansu holds every fetch for the full wait,
which put ~1.5 s on every hop of the pipeline (three hops from news.raw to news.alerts). The wait is
WIREWATCH_FETCH_MAX_WAIT_MS here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from typing import Any

import faust
from aiokafka.errors import KafkaError
from faust.transport.drivers import aiokafka as driver
from mode.utils.futures import maybe_cancel

from .settings import Settings

log = logging.getLogger(__name__)

#: How long a topic declaration at start-up is tried again on a retriable broker error.
TOPIC_DECLARE_RETRY_SECONDS = 60.0


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by aiokafka when the consumer starts and builds its fetcher (after this returns).
        consumer._fetch_max_wait_ms = self.app.conf.wirewatch_fetch_max_wait_ms
        return consumer


class _Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(driver.Transport):
    Consumer = _Consumer

    async def _create_topic(
        self, owner: Any, client: Any, topic: str, partitions: int, replication: int, **kwargs: Any
    ) -> None:
        # Faust declares every topic when the worker starts; a broker of the cluster restarting in that
        # moment fails the request with a retriable error, and the worker would exit: wait for it instead.
        deadline = time.monotonic() + TOPIC_DECLARE_RETRY_SECONDS
        delay = 0.5
        while True:
            try:
                return await super()._create_topic(owner, client, topic, partitions, replication, **kwargs)
            except KafkaError as exc:
                if not exc.retriable or time.monotonic() + delay > deadline:
                    raise
                log.warning("declaring topic %s: %r; trying again in %.1f s", topic, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


class App(faust.App):
    """faust.App using the transport above; ``fetch_max_wait_ms`` is the consumer's fetch wait."""

    def __init__(self, *args: Any, fetch_max_wait_ms: int = 50, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conf.wirewatch_fetch_max_wait_ms = fetch_max_wait_ms

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)


def broker_credentials(settings: Settings) -> Any:
    """The ``broker_credentials`` value for faust.App (None for PLAINTEXT)."""
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            ssl_context=settings.ssl_context(),
            mechanism=settings.sasl_mechanism,
        )
    if settings.security_protocol == "SSL":
        return faust.SSLCredentials(settings.ssl_context())
    return None


class Worker(faust.Worker):
    """faust.Worker whose stop on SIGTERM/SIGINT is bounded by ``shutdown_timeout`` seconds.

    Faust's stop waits until every event a stream took is acknowledged (``wait_empty``): after an agent
    crashed, or while a batch is stuck (a hung model, a broker that is gone), that is never. Past the bound
    the worker logs what it was waiting for and stops waiting for those events: it commits what was
    acknowledged and stops as usual, so the records not acknowledged are processed again by the next owner
    of their partitions (at least once). Should the rest of the stop hang as well, the process exits after
    a second bound.
    """

    def __init__(self, app: faust.App, *args: Any, shutdown_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        self.shutdown_timeout = shutdown_timeout

    async def _stop_on_signal(self, signal: signal.Signals) -> None:
        self.log.info("Signal received: %s (%s)", signal, signal.value)
        stopping = asyncio.ensure_future(self.stop())
        done, _ = await asyncio.wait([stopping], timeout=self.shutdown_timeout)
        if not done:
            log.error(
                "shutdown not finished after %.0f s (WIREWATCH_SHUTDOWN_TIMEOUT): %s; stopping without them "
                "(records not acknowledged are processed again after a restart)",
                self.shutdown_timeout,
                self.pending_work(),
            )
            self.abandon_unacked()
            done, _ = await asyncio.wait([stopping], timeout=self.shutdown_timeout)
        if not done:
            log.critical("the worker did not stop within twice WIREWATCH_SHUTDOWN_TIMEOUT; exiting now")
            logging.shutdown()
            os._exit(1)
        maybe_cancel(self._starting_fut)

    def pending_work(self) -> str:
        """What the stop is waiting for, as far as Faust shows it (its own attributes; best effort)."""
        unacked = len(getattr(self.app._consumer, "_unacked_messages", ()) or ())
        crashed = [
            f"agent {agent.name} crashed ({actor.crash_reason!r})"
            for agent in self.app.agents.values()
            for actor in getattr(agent, "_actors", ())
            if actor.crash_reason is not None
        ]
        return ", ".join([f"{unacked} events taken but not acknowledged", *crashed])

    def abandon_unacked(self) -> None:
        """Let Faust's ``wait_empty`` end: it waits until this set of unacknowledged events is empty. Their
        offsets stay uncommitted (Faust commits acknowledged offsets only)."""
        unacked = getattr(self.app._consumer, "_unacked_messages", None)
        if unacked is not None:
            unacked.clear()
