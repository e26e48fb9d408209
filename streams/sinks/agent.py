"""The Faust agent that feeds a :class:`~.base.SinkSet` from ``news.alerts``.

It runs in the app's consumer group, so each alert is delivered by the one worker owning its partition.
An event is acknowledged only after every accepting sink got it or it was dead-lettered, so a worker that
dies mid-delivery leaves it to the next owner of the partition (at least once).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from faust.types import EventT

from ..pipeline import Pipeline, dead_letter_for
from .base import DeliveryResult, InvalidAlert, SinkItem, SinkSet, decode_alert

log = logging.getLogger(__name__)


async def deliver_events(pipeline: Pipeline, sinks: SinkSet, events: Sequence[EventT]) -> list[DeliveryResult]:
    """Deliver a batch of ``news.alerts`` events. A record that is not an alert is dead-lettered (stage
    ``sinks.stage``); each alert of a batch a sink finally failed becomes a dead letter (the sink's stage
    and reason, the error naming the sink) with the alert's bytes, so it can be replayed."""
    items: list[SinkItem] = []
    event_of: dict[int, EventT] = {}
    for event in events:
        try:
            item = decode_alert(event.message.value)
        except InvalidAlert as exc:
            await (await pipeline.dead_letter(dead_letter_for(event, sinks.stage, exc.reason, exc.detail)))
            continue
        items.append(item)
        event_of[id(item)] = event
    results = []
    for sink, batch, result in await sinks.deliver(items):
        results.append(result)
        if result.ok:
            continue
        for item in batch:
            article_id = item.alert.get("article_id")
            letter = dead_letter_for(
                event_of[id(item)],
                sink.stage,
                sink.reason,
                result.describe(),
                article_id if isinstance(article_id, str) else None,
            )
            await (await pipeline.dead_letter(letter))
    return results


def register_sinks(pipeline: Pipeline, sinks: SinkSet) -> SinkSet:
    """Add the agent ``sinks.agent`` on ``news.alerts`` feeding ``sinks`` in batches of their largest
    ``batch_size`` (waiting at most WIREWATCH_BATCH_WITHIN for one to fill)."""

    @pipeline.app.agent(pipeline.alerts, name=sinks.agent)
    async def deliver(stream: Any) -> None:
        # Manual acks: Faust's automatic ack sits in a ``finally`` and would also fire for an event whose
        # delivery a shutdown interrupted; acked by hand, such an event is sent again after a restart.
        try:
            async for events in stream.noack_take(sinks.batch_size, within=pipeline.settings.batch_within):
                await deliver_events(pipeline, sinks, events)
                for event in events:
                    await stream.ack(event)
        finally:
            await sinks.aclose()

    log.info("%s: %d sink(s): %s", sinks.agent, len(sinks.sinks), ", ".join(s.id for s in sinks.sinks))
    return sinks
