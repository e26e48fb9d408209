"""``wirewatch alerts tail --limit N`` prints N alerts, also when one fetch brings more."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from .conftest import Cluster

pytestmark = pytest.mark.integration


async def test_limit_stops_inside_a_fetch(cluster: Cluster) -> None:
    # Three alerts of one incident: one key, one partition, already on the broker, so one fetch brings them all.
    alerts = [{"alert_id": f"alr-{n}", "incident_id": "inc-1", "kind": "srbm", "severity": "high"} for n in range(3)]
    await cluster.produce([(b"inc-1", orjson.dumps(alert)) for alert in alerts], topic="news.alerts")
    done = await asyncio.to_thread(
        cluster.cli, "alerts", "tail", "--from-beginning", "--json", "--limit", "2", "--idle-timeout", "20"
    )
    assert done.returncode == 0, done.stderr
    assert [orjson.loads(line)["alert_id"] for line in done.stdout.splitlines()] == ["alr-0", "alr-1"]


async def test_records_that_are_no_alert_are_passed_over(cluster: Cluster) -> None:
    """Anyone can write to news.alerts: JSON that is not an object, or an alert with malformed evidence, must not
    stop the tail before the good alert behind it."""
    good = {
        "alert_id": "alr-ok",
        "incident_id": "inc-2",
        "kind": "icbm",
        "severity": "critical",
        "actor": "North Korea",
        "evidence": [{"text": "It fired an ICBM.", "start": 0, "end": 17}],
    }
    odd = {
        "alert_id": "alr-odd",
        "incident_id": "inc-2",
        "kind": "icbm",
        "severity": 3,
        "details": [1],
        "evidence": {"text": "x"},
    }
    records = [b"not json", b"[1, 2]", b"3", orjson.dumps(odd), orjson.dumps(good)]
    await cluster.produce([(b"inc-2", record) for record in records], topic="news.alerts")
    done = await asyncio.to_thread(
        cluster.cli, "alerts", "tail", "--from-beginning", "--limit", "2", "--idle-timeout", "20"
    )
    assert done.returncode == 0, done.stderr
    assert "It fired an ICBM." in done.stdout and "incident=inc-2" in done.stdout, done.stdout
