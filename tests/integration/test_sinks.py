"""A plugin sink end to end: the example distribution ``tests/sink_dist`` (installed as pip would, found
through its ``wirewatch.sinks`` entry point) receives the seed's alerts from a real worker on the broker,
and a sink that keeps failing has its alerts dead-lettered with their original bytes."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

import orjson
import pytest

from tests.unit.test_feeds_config import install_plugin_dist
from wirewatch.streams.records import Article

from .conftest import Cluster

pytestmark = pytest.mark.integration
SINK_DIST = Path(__file__).resolve().parents[1] / "sink_dist"


async def test_a_plugin_sink_receives_the_seeds_alerts(cluster: Cluster, seed_text: str, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    unwritable = tmp_path / "a-directory"
    unwritable.mkdir()
    config = tmp_path / "sinks.toml"
    config.write_text(
        f'[[sink]]\nid = "book"\ntype = "ledger"\npath = "{ledger}"\nbatch_size = 10\n\n'
        f'[[sink]]\nid = "broken"\ntype = "ledger"\npath = "{unwritable}"\nmax_attempts = 2\n'
    )
    plugin_path = ":".join(install_plugin_dist(tmp_path / "site-packages", SINK_DIST))
    worker = cluster.worker(WIREWATCH_SINKS=str(config), PYTHONPATH=plugin_path)
    seed = Article.create(seed_text, feed="seed", published_at="2019-12-12T10:00:00Z")
    await cluster.produce([(seed.id.encode(), seed.to_bytes())])

    alerts = await cluster.consume("news.alerts", lambda rs: len({r["incident_id"] for r in rs}) >= 2)
    assert len(alerts) == 2, worker.log()[-3000:]
    deadline = time.monotonic() + 30
    while (not ledger.exists() or len(ledger.read_bytes().splitlines()) < 2) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    written = [orjson.loads(line) for line in ledger.read_bytes().splitlines()] if ledger.exists() else []
    by_id = {a["alert_id"]: {k: v for k, v in a.items() if not k.startswith("_")} for a in alerts}
    assert {a["alert_id"]: a for a in written} == by_id, worker.log()[-3000:]

    letters = await cluster.consume("news.deadletter", lambda rs: len([r for r in rs if r.get("stage") == "sink"]) >= 2)
    letters = [r for r in letters if r.get("stage") == "sink"]
    assert len(letters) == 2
    for letter in letters:
        assert letter["reason"] == "sink_failed" and letter["article_id"] == seed.id
        assert letter["error"].startswith("broken: cannot write") and letter["error"].endswith("after 2 attempts")
        assert orjson.loads(base64.b64decode(letter["original_b64"]))["alert_id"] in by_id
