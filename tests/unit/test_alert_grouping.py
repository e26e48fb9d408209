"""Findings travel to the alert agent one message per actor and batch: grouping, the message shapes the
agent accepts, and folding a group gives the alerts and incidents of folding its findings one by one."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import orjson
import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError

from wirewatch.agents.alert import (
    apply_finding,
    apply_findings,
    findings_by_actor,
    grouped_envelopes,
    track_findings,
)
from wirewatch.agents.incidents import Incident
from wirewatch.streams import pipeline as pipeline_module
from wirewatch.streams.pipeline import send_until_delivered

from .test_incidents import finding

WINDOW = timedelta(hours=48)
DAY = "2031-05-04T"


def record(article: str, *signals: dict[str, Any], published: str = DAY + "06:00:00Z") -> dict[str, Any]:
    return {
        "id": article,
        "url": f"https://example.org/{article}",
        "title": f"title {article}",
        "feed": "feed-" + article,
        "published_at": published,
        "meta": {"ingested_at_ms": 1_000},
        "signals": list(signals),
    }


def signal(actor: str, sentence: str, alertable: bool = True, **kw: Any) -> dict[str, Any]:
    return finding(actor=actor, sentence=sentence, **kw).to_dict() | {"alertable": alertable}


def test_findings_are_grouped_by_actor_in_record_order_and_only_alertable_ones() -> None:
    records = [
        record("a1", signal("North Korea", "North Korea fired a missile."), signal("Iran", "Iran fired a rocket.")),
        record("a2", signal("North Korea", "Pyongyang fired another.", alertable=False)),
        record("a3", signal("North Korea", "The North launched a missile."), signal("", "A missile was fired.")),
    ]
    groups = dict(findings_by_actor(records))
    assert len(groups) == len(findings_by_actor(records))  # one message per actor
    assert list(groups) == ["North Korea", "Iran", ""]
    assert [e["article_id"] for e in groups["North Korea"]] == ["a1", "a3"]
    assert [e["finding"]["evidence"][0]["text"] for e in groups["North Korea"]] == [
        "North Korea fired a missile.",
        "The North launched a missile.",
    ]
    first = groups["North Korea"][0]
    assert first["url"] == "https://example.org/a1" and first["feed"] == "feed-a1"
    assert first["ingested_at_ms"] == 1_000 and first["published_at"] == "2031-05-04T06:00:00Z"


def test_a_large_group_is_split_into_messages_within_the_size_limit_in_order() -> None:
    long = "North Korea fired a ballistic missile. " * 60  # ~2.3 kB of evidence per finding
    records = [record(f"a{n}", signal("North Korea", long), signal("Iran", "Iran fired a rocket.")) for n in range(10)]
    messages = findings_by_actor(records, max_bytes=6_000)
    korea = [envelopes for actor, envelopes in messages if actor == "North Korea"]
    assert len(korea) > 1
    assert all(sum(len(orjson.dumps(e)) for e in part) <= 6_000 for part in korea)
    assert [e["article_id"] for part in korea for e in part] == [f"a{n}" for n in range(10)]
    assert [len(envelopes) for actor, envelopes in messages if actor == "Iran"] == [10]
    # a single finding larger than the limit still travels, alone in its message
    [(_, alone)] = findings_by_actor([record("big", signal("Iran", long))], max_bytes=100)
    assert [e["article_id"] for e in alone] == ["big"]


def test_the_agent_reads_grouped_messages_and_the_single_envelopes_of_older_workers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    envelopes = findings_by_actor([record("a1", signal("Iran", "Iran fired a rocket."))])[0][1]
    assert grouped_envelopes({"findings": envelopes}) == envelopes
    assert grouped_envelopes(envelopes[0]) == envelopes  # one bare envelope, as sent before grouping
    assert grouped_envelopes({"findings": [envelopes[0], "junk", {"finding": None}]}) == envelopes
    with caplog.at_level(logging.WARNING, logger="wirewatch.agents.alert"):
        assert grouped_envelopes(["not", "a", "message"]) == []
        assert grouped_envelopes({"something": "else"}) == []
    assert sum("unknown shape" in r.getMessage() for r in caplog.records) == 2


def fold_one_by_one(incidents: list[Incident], envelopes: list[dict[str, Any]]) -> tuple[list, list, dict]:
    alerts, latest = [], {}
    for envelope in envelopes:
        incidents, alert, incident = apply_finding(incidents, envelope, WINDOW)
        if alert is not None and incident is not None:
            alerts.append(alert)
            latest[incident["incident_id"]] = incident
    return incidents, alerts, latest


def test_a_group_folds_like_its_findings_one_by_one_and_each_incident_is_sent_once() -> None:
    records = [
        record("a1", signal("North Korea", "North Korea fired a ballistic missile into the sea.")),
        record(
            "a2", signal("North Korea", "Pyongyang fired a ballistic missile, Seoul said."), published=DAY + "07:00:00Z"
        ),
        record(
            "a3",
            signal("North Korea", "North Korea threatened to fire missiles.", modality="threatened"),
            published=DAY + "08:00:00Z",
        ),
    ]
    [(_, envelopes)] = findings_by_actor(records)
    incidents, alerts, changed = apply_findings([], envelopes, WINDOW)
    expected_incidents, expected_alerts, latest = fold_one_by_one([], envelopes)

    assert [a["alert_id"] for a in alerts] == [a["alert_id"] for a in expected_alerts]
    assert [a["article_id"] for a in alerts] == ["a1", "a2", "a3"]
    assert [i.to_dict() for i in incidents] == [i.to_dict() for i in expected_incidents]
    # the launch (a1, a2) and the threat (a3): two incidents, each sent once in its latest state
    assert len(changed) == 2 and {i["incident_id"] for i in changed} == set(latest)
    launch = next(i for i in changed if i["modality"] == "occurred")
    assert launch == latest[launch["incident_id"]] and launch["article_ids"] == ["a1", "a2"]

    # a re-delivered group changes nothing: no alert, no incident record
    again, no_alerts, no_changes = apply_findings(incidents, envelopes, WINDOW)
    assert no_alerts == [] and no_changes == []
    assert [i.to_dict() for i in again] == [i.to_dict() for i in incidents]


async def test_a_worker_killed_before_delivery_leaves_the_table_unwritten_so_the_replay_alerts() -> None:
    """The table (whose changelog is flushed on its own schedule) is written only after the alerts are
    delivered: a kill before delivery leaves it as it was, and the re-delivered findings raise the same
    alerts; delivered once, a replay raises none."""
    [(actor, envelopes)] = findings_by_actor(
        [record("a1", signal("North Korea", "North Korea fired a ballistic missile into the sea."))]
    )
    table: defaultdict[str, list] = defaultdict(list)
    delivered: list[dict[str, Any]] = []

    async def killed(changed: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> None:
        raise ConnectionError("worker killed before the broker acknowledged")

    async def publish(changed: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> None:
        delivered.extend(alerts)

    with pytest.raises(ConnectionError):
        await track_findings(table, actor, envelopes, WINDOW, killed)
    assert table[actor] == []

    sent = await track_findings(table, actor, envelopes, WINDOW, publish)
    assert [a["article_id"] for a in sent] == ["a1"] and delivered == sent
    assert [i["article_ids"] for i in table[actor]] == [["a1"]]

    assert await track_findings(table, actor, envelopes, WINDOW, publish) == []
    assert len(delivered) == 1


async def test_sends_are_retried_until_delivered_and_a_refused_message_is_not_sent_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """What the alert agent's publish relies on: a timeout is retried (in order, the delivered ones not sent
    again), a message the broker refuses for itself is logged and dropped, and the call returns only then."""
    monkeypatch.setattr(pipeline_module, "RETRY_FIRST_S", 0.001)
    attempts: list[str] = []
    failures = {"incident": [KafkaTimeoutError()], "alert": [KafkaTimeoutError(), KafkaTimeoutError()]}

    def sender(name: str, error: BaseException | None = None) -> Callable[[], Awaitable[asyncio.Future]]:
        async def send() -> asyncio.Future:
            attempts.append(name)
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            queued = failures.get(name)
            if error is not None:
                future.set_exception(error)
            elif queued:
                future.set_exception(queued.pop(0))
            else:
                future.set_result(None)
            return future

        return send

    with caplog.at_level(logging.ERROR, logger="wirewatch.streams.pipeline"):
        await send_until_delivered(
            [sender("incident"), sender("alert"), sender("too large", MessageSizeTooLargeError()), sender("other")]
        )
    assert attempts == ["incident", "alert", "too large", "other", "incident", "alert", "alert"]
    assert sum("refused a message for itself" in r.getMessage() for r in caplog.records) == 1
