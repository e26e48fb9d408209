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
