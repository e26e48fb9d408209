"""The worker's side of subscriptions: the ``subscriptions`` agent on ``news.alerts``, and a task that
loads ``WIREWATCH_SUBSCRIPTIONS`` into ``news.subscriptions``, re-reads the topic every
``WIREWATCH_SUBSCRIPTIONS_REFRESH`` seconds, brings back the delivery memory of ``news.subscriptions.state``
when the worker starts, and sends the digests that are due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from ..pipeline import Pipeline, dead_letter_for
from ..records import DeadLetter
from ..sinks.base import DeliveryResult, InvalidAlert, SinkItem, decode_alert
from .model import Subscription
from .router import STAGE, SubscriptionRouter, digest_dead_letter
from .state import DeliveryState
from .store import SubscriptionStore

log = logging.getLogger(__name__)

#: Alerts whose deliveries may be under way at once; past it the agent waits for one to end.
MAX_IN_FLIGHT = 256
#: Seconds between checks for digests that are due.
DIGEST_TICK = 1.0
#: Longest wait for one read of news.subscriptions.
READ_TIMEOUT = 30.0
#: Seconds between tries to write the delivery memory while the broker does not take it.
STATE_RETRY = 1.0


def reason_for(channel: str) -> str:
    """``korea/0:email`` → ``email_failed``."""
    return f"{channel.rsplit(':', 1)[-1]}_failed"


async def until_taken(what: str, write: Callable[[], Awaitable[Any]]) -> None:
    """Run ``write`` until the broker takes it: it may be away for a while, and the alert waits, unacknowledged."""
    while True:
        try:
            await write()
            return
        except Exception as exc:
            log.warning("subscriptions: could not write %s, trying again: %r", what, exc)
            await asyncio.sleep(STATE_RETRY)


async def save(state: DeliveryState) -> None:
    """Write the delivery memory recorded so far, trying again until the broker takes it."""
    await until_taken(state.topic, state.flush)


def report_failure(task: asyncio.Future) -> None:
    """A done-callback: an alert whose deliveries could not be finished is said, not lost in a task."""
    if not task.cancelled() and task.exception() is not None:
        log.error(
            "subscriptions: an alert's deliveries could not be finished: %r; it stays unacknowledged, so its "
            "partition is not committed past it and it is sent again after a restart",
            task.exception(),
        )


async def send_dead_letter(pipeline: Pipeline, letter: DeadLetter) -> None:
    """Write a dead letter and wait until the broker has it."""
    await (await pipeline.dead_letter(letter))


async def _finish(
    pipeline: Pipeline, stream: Any, event: Any, tasks: list[asyncio.Future], state: DeliveryState
) -> None:
    """Wait for one alert's deliveries, dead-letter the failed ones, write what the router now remembers
    (the version sent, the digest's new item), then acknowledge the record."""
    for channel, item, result in await asyncio.gather(*tasks):
        if not result.ok:
            letter = dead_letter_for(
                event,
                STAGE,
                reason_for(channel),
                result.describe(),
                item.alert.get("article_id") if isinstance(item.alert.get("article_id"), str) else None,
            )
            await until_taken(f"a dead letter of {channel}", partial(send_dead_letter, pipeline, letter))
    await save(state)
    await stream.ack(event)


def register_subscriptions(
    pipeline: Pipeline, router: SubscriptionRouter, store: SubscriptionStore, from_file: list[Subscription]
) -> None:
    """Add the agent and the task. ``from_file``: the checked subscriptions of WIREWATCH_SUBSCRIPTIONS,
    stored when the worker starts (the caller loads them first, so a bad file stops the worker)."""
    app = pipeline.app
    settings = pipeline.settings
    state = DeliveryState(settings)
    router.persist = state.record

    @app.agent(pipeline.alerts, name="subscriptions")
    async def route(stream: Any) -> None:
        # Acknowledged by hand, in _finish, once the alert's deliveries are done: the agent itself moves
        # on at once, so a slow channel never holds up the next alerts (README "Subscriptions").
        in_flight: set[asyncio.Future] = set()
        try:
            async for events in stream.noack_take(64, within=settings.batch_within):
                # The stored list first: an alert routed to no one is not sent later. Waited for inside the
                # loop: Faust hands a fetched record only to streams already iterating; one fetched before
                # the agent iterates is never seen by this worker (until a restart).
                await router.loaded.wait()
                for event in events:
                    try:
                        item = decode_alert(event.message.value)
                    except InvalidAlert as exc:
                        await (await pipeline.dead_letter(dead_letter_for(event, STAGE, exc.reason, exc.detail)))
                        await stream.ack(event)
                        continue
                    task = asyncio.ensure_future(_finish(pipeline, stream, event, router.route(item), state))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    task.add_done_callback(report_failure)
                    while len(in_flight) >= MAX_IN_FLIGHT:
                        await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in in_flight:  # not acknowledged: the next owner of the partition sends them again
                task.cancel()
            await router.aclose()
            await state.aclose()

    async def digest_letter(channel: str, item: SinkItem, result: DeliveryResult) -> None:
        await send_dead_letter(pipeline, digest_dead_letter(pipeline.alerts.get_topic_name(), channel, item, result))

    @app.task
    async def maintain() -> None:
        unstored = list(from_file)
        loop = asyncio.get_running_loop()
        next_read = 0.0
        while True:
            if loop.time() >= next_read:
                try:
                    if unstored:  # the file first: the agent must not route with a list lacking it
                        await asyncio.wait_for(store.write(unstored), READ_TIMEOUT)
                        unstored = []
                    found = await asyncio.wait_for(store.read_all(), READ_TIMEOUT)
                    if set(found) != set(router.subscriptions) or not router.loaded.is_set():
                        names = ": " + ", ".join(sorted(found)) if found else ""
                        log.info("subscriptions: %d on %s%s", len(found), store.topic, names)
                    router.replace(found.values())
                    if not router.loaded.is_set():  # once, before the first alert is routed
                        used = router.restore(await state.load(READ_TIMEOUT))
                        log.info("subscriptions: %d delivery memory entries from %s", used, state.topic)
                    router.loaded.set()
                except Exception as exc:  # the broker may be busy: keep the list we have, try again later
                    log.warning("subscriptions: could not read or write %s: %r", store.topic, exc)
                next_read = loop.time() + settings.subscriptions_refresh
            await router.flush_digests(digest_letter)
            await save(state)
            await asyncio.sleep(DIGEST_TICK)

    log.info("subscriptions: agent on %s, store %s", pipeline.alerts.get_topic_name(), store.topic)
