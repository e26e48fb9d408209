"""Faust's aiokafka transport with the consumer's fetch wait taken from wirewatch's settings.

faust-streaming creates its consumer with ``fetch_max_wait_ms=1500`` fixed. Apache Kafka answers a fetch
as soon as data arrives, so that only bounds idle polling; Tansu holds every fetch for the full wait,
which put ~1.5 s on every hop of the pipeline (three hops from news.raw to news.alerts). The wait is
WIREWATCH_FETCH_MAX_WAIT_MS here.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as driver

from .settings import Settings


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
