"""The subscriptions agent's end of one alert (streams/subscriptions/agent.py): a failed delivery's dead letter
is written even when the broker refuses it for a while, and only then is the alert acknowledged; an alert
whose end fails is said in the log, not lost in a task."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from wirewatch.streams.records import DeadLetter
from wirewatch.streams.sinks.base import DeliveryResult, SinkItem
from wirewatch.streams.subscriptions import agent


class RefusingBroker:
    """Stands in for the pipeline's dead-letter writer: refuses the first ``refusals`` writes."""

    def __init__(self, refusals: int) -> None:
        self.refusals, self.written = refusals, []

    async def dead_letter(self, letter: DeadLetter) -> asyncio.Future:
        if self.refusals:
            self.refusals -= 1
            raise ConnectionError("broker away")
        self.written.append(letter)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class Stream:
    def __init__(self) -> None:
        self.acked: list[Any] = []

    async def ack(self, event: Any) -> None:
        self.acked.append(event)


class State:
    topic = "news.subscriptions.state"

    def __init__(self) -> None:
        self.flushes = 0

    async def flush(self) -> None:
        self.flushes += 1


def event() -> Any:
    message = SimpleNamespace(value=b"{}", key=b"inc-1", headers=None, topic="news.alerts", partition=0, offset=7)
    return SimpleNamespace(message=message)


async def delivery(ok: bool) -> tuple[str, SinkItem, DeliveryResult]:
    result = DeliveryResult(target="desk", outcome="delivered" if ok else "failed", attempts=3, error="HTTP 500")
    return "korea/0:webhook", SinkItem(body=b"{}", alert={"article_id": "art-1"}, delivery_id="a-1"), result


async def test_a_dead_letter_the_broker_refuses_is_written_again_before_the_alert_is_acknowledged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(agent, "STATE_RETRY", 0.0)
    broker, stream, state, alert = RefusingBroker(refusals=2), Stream(), State(), event()
    tasks = [asyncio.ensure_future(delivery(ok=False)), asyncio.ensure_future(delivery(ok=True))]
    await agent._finish(broker, stream, alert, tasks, state)  # type: ignore[arg-type]
    assert [(d.reason, d.offset, d.article_id) for d in broker.written] == [("webhook_failed", 7, "art-1")]
    assert stream.acked == [alert] and state.flushes == 1


async def test_an_alert_whose_end_fails_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise RuntimeError("state topic deleted")

    task = asyncio.ensure_future(fails())
    await asyncio.wait([task])
    with caplog.at_level(logging.ERROR):
        agent.report_failure(task)
    assert "state topic deleted" in caplog.text and "unacknowledged" in caplog.text
