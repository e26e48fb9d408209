"""Alerts end to end: the seed through a real worker yields exactly the two incidents of docs/ARCHITECTURE.md."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import orjson
import pytest

from tests.readme import readme_block
from wirewatch.streams import testing
from wirewatch.streams.records import Article, json_schema

from .conftest import Cluster

pytestmark = pytest.mark.integration


def incidents_by_modality(incidents: list[dict]) -> dict[str, dict]:
    latest = {i["incident_id"]: i for i in incidents}  # compacted topic: the last record wins
    return {i["modality"]: i for i in latest.values()}


async def test_seed_yields_exactly_two_incidents_and_replay_changes_nothing(cluster: Cluster, seed_text: str) -> None:
    seed = Article.create(seed_text, feed="seed", published_at="2019-12-12T10:00:00Z")
    worker = cluster.worker()
    await cluster.produce([(seed.id.encode(), seed.to_bytes())])
    alerts = await cluster.consume("news.alerts", lambda rs: len({r["incident_id"] for r in rs}) >= 2)
    assert len({a["incident_id"] for a in alerts}) == 2, worker.log()[-3000:]
    for alert in alerts:
        jsonschema.validate({k: v for k, v in alert.items() if not k.startswith("_")}, json_schema("alert"))
        assert alert["_key"] == alert["incident_id"].encode()
        assert alert["article_id"] == seed.id and alert["actor"] == "North Korea"

    incidents = await cluster.consume("news.incidents", lambda rs: len({r["incident_id"] for r in rs}) >= 2)
    by_modality = incidents_by_modality(incidents)
    assert set(by_modality) == {"occurred", "possible"}
    launch = by_modality["occurred"]
    assert launch["details"]["count"] == 2
    assert launch["details"]["range_km"] == pytest.approx(380)
    assert launch["details"]["apogee_km"] == pytest.approx(97)
    assert "Sea of Japan" in launch["details"]["location"]
    assert "late November" in launch["details"]["time_text"]
    warning = by_modality["possible"]
    assert warning["kind"] in ("icbm", "space_launch_vehicle")
    assert "coming weeks" in warning["details"]["time_text"]
    warn_alert = next(a for a in alerts if a["incident_id"] == warning["incident_id"])
    assert "Kelly Craft" in (warn_alert["speaker"] or "")

    # A re-delivered article (a re-ingest) must not raise anything new.
    await cluster.produce([(seed.id.encode(), seed.to_bytes())])
    marker = Article.create(
        "North Korea fired a cruise missile into the Yellow Sea on Friday, Seoul said.",
        feed="other",
        published_at="2019-12-12T11:00:00Z",
    )
    await cluster.produce([(marker.id.encode(), marker.to_bytes())])
    after = await cluster.consume("news.alerts", lambda rs: any(r["article_id"] == marker.id for r in rs))
    assert any(r["article_id"] == marker.id for r in after), worker.log()[-3000:]
    seed_alerts = sorted(a["alert_id"] for a in after if a["article_id"] == seed.id)
    assert seed_alerts == sorted(a["alert_id"] for a in alerts)


async def test_readme_aiokafka_consumer_reads_alerts(cluster: Cluster, tmp_path: Path) -> None:
    code = readme_block("alerts-consumer", "python")
    assert len(code.strip().splitlines()) <= 16
    script = tmp_path / "consumer.py"
    script.write_text(code)
    report = Article.create(
        "Iran launched a ballistic missile from Semnan province on Tuesday, state television reported.",
        feed="readme",
        published_at="2024-03-05T09:00:00Z",
    )
    cluster.worker()
    await cluster.produce([(report.id.encode(), report.to_bytes())])
    await cluster.consume("news.alerts", lambda rs: any(r["article_id"] == report.id for r in rs))
    env = dict(os.environ, KAFKA_BOOTSTRAP=cluster.bootstrap, ALERTS_TOPIC=cluster.topic("news.alerts"))
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout=60)  # type: ignore[union-attr]
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C, as a reader of the README would stop it
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            # a runner that starts jobs in the background without job control hands its children SIGINT
            # ignored, and Python keeps it so: stop the script for good (what it printed is the point)
            proc.kill()
            proc.wait(10)
    assert "Iran" in line and "occurred" in line, line


async def test_a_findings_message_that_fails_is_dead_lettered_and_the_alert_agent_goes_on(
    cluster: Cluster,
) -> None:
    """A findings message the alert agent cannot fold (a finding without its modality) becomes a dead letter of
    stage ``alert``; the agent acks it and raises the next article's alert. Texts written for the project."""
    first = Article.create(
        "Iran launched a ballistic missile from Semnan province on Tuesday, state television reported.",
        feed="deadletter-test",
        published_at="2024-03-05T09:00:00Z",
    )
    worker = cluster.worker()
    await cluster.produce([(first.id.encode(), first.to_bytes())])
    await cluster.consume("news.alerts", lambda rs: any(r["article_id"] == first.id for r in rs))

    broken = orjson.dumps({"findings": [{"article_id": "broken", "finding": {"kind": "icbm"}}]})
    await testing.produce(cluster.bootstrap, f"{cluster.app_id}-findings-by-actor", [(b"Iran", broken)])
    letters = await cluster.consume("news.deadletter", lambda rs: any(r.get("stage") == "alert" for r in rs))
    letter = next(r for r in letters if r.get("stage") == "alert")
    assert letter["reason"] == "processing_error" and "modality" in letter["error"], letter

    second = Article.create(
        "North Korea fired a cruise missile into the Yellow Sea on Friday, Seoul said.",
        feed="deadletter-test",
        published_at="2024-03-08T09:00:00Z",
    )
    await cluster.produce([(second.id.encode(), second.to_bytes())])
    after = await cluster.consume("news.alerts", lambda rs: any(r["article_id"] == second.id for r in rs))
    assert any(r["article_id"] == second.id for r in after), worker.log()[-3000:]
