"""Webhooks end to end: a real worker POSTs the seed's alerts to a local receiver, signed, and dead-letters
the deliveries of a hook that keeps failing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.local_http import serve_locally
from wirewatch.streams.records import Article

from .conftest import PARTITIONS, Cluster

pytestmark = pytest.mark.integration
SECRET = "integration-desk-secret"


@dataclass
class Receiver:
    base: str = ""
    requests: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)

    def got(self, name: str) -> list[tuple[dict[str, str], bytes]]:
        return self.requests.get(name, [])


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def hook(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        rec.requests.setdefault(name, []).append((dict(request.headers), body))
        return web.Response(status=500, text="broken") if name == "bad" else web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{name}", hook)
    async with serve_locally(app) as rec.base:
        yield rec


async def committed_total(cluster: Cluster, tps: list[TopicPartition], until: int, timeout: float = 30) -> int:
    """The app group's committed offsets summed over ``tps`` (topics start at 0), polled until ``until``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    await admin.start()
    total = 0
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            offsets = await admin.list_consumer_group_offsets(cluster.app_id, partitions=tps)
            total = sum(max(0, meta.offset) for meta in offsets.values())
            if total >= until:
                break
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
    return total


def webhooks_toml(base: str) -> str:
    return f"""
[[webhook]]
id = "good"
url = "{base}/good"
secret_env = "WW_TEST_HOOK_SECRET"
timeout = 5

[[webhook]]
id = "bad"
url = "{base}/bad"
secret = "another-secret"
max_attempts = 2
timeout = 5

[[webhook]]
id = "cruise-only"
url = "{base}/filtered"
kinds = ["cruise"]
"""


async def test_worker_delivers_signed_alerts_and_dead_letters_failures(
    cluster: Cluster, seed_text: str, receiver: Receiver, tmp_path: Path
) -> None:
    config = tmp_path / "webhooks.toml"
    config.write_text(webhooks_toml(receiver.base))
    worker = cluster.worker(WIREWATCH_WEBHOOKS=str(config), WW_TEST_HOOK_SECRET=SECRET)
    seed = Article.create(seed_text, feed="seed", published_at="2019-12-12T10:00:00Z")
    await cluster.produce([(seed.id.encode(), seed.to_bytes())])

    alerts = await cluster.consume("news.alerts", lambda rs: len({r["incident_id"] for r in rs}) >= 2)
    assert len(alerts) == 2, worker.log()[-3000:]
    letters = await cluster.consume(
        "news.deadletter", lambda rs: len([r for r in rs if r.get("stage") == "webhook"]) >= 2
    )
    letters = [r for r in letters if r.get("stage") == "webhook"]
    deadline = time.monotonic() + 15
    while len(receiver.got("good")) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)

    # The good hook: each alert once, its body the record on news.alerts, signed, delivery id = alert_id.
    by_id = {a["alert_id"]: {k: v for k, v in a.items() if not k.startswith("_")} for a in alerts}
    good = receiver.got("good")
    assert sorted(h["X-Wirewatch-Delivery"] for h, _ in good) == sorted(by_id), worker.log()[-3000:]
    for headers, body in good:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Wirewatch-Signature-256"] == expected
        assert headers["Content-Type"] == "application/json" and headers["X-Wirewatch-Event"] == "alert"
        assert orjson.loads(body) == by_id[headers["X-Wirewatch-Delivery"]]
    assert receiver.got("filtered") == []  # kinds = ["cruise"]: the seed has none

    # The bad hook: 2 alerts x 2 attempts, then one dead letter per alert with the alert's exact bytes.
    assert len(receiver.got("bad")) == 4
    assert len(letters) == 2
    good_bodies = {h["X-Wirewatch-Delivery"]: body for h, body in good}
    for letter in letters:
        assert letter["reason"] == "webhook_failed"
        assert letter["error"].startswith("bad: HTTP 500") and letter["error"].endswith("after 2 attempts")
        assert letter["topic"] == cluster.topic("news.alerts") and letter["article_id"] == seed.id
        original = base64.b64decode(letter["original_b64"])
        assert original == good_bodies[orjson.loads(original)["alert_id"]]  # the same bytes the hooks got

    # Every alert was acked once delivered or dead-lettered: the group commits the end of news.alerts.
    alerts_tps = [TopicPartition(cluster.topic("news.alerts"), p) for p in range(PARTITIONS)]
    committed = await committed_total(cluster, alerts_tps, until=len(alerts))
    assert committed == len(alerts), worker.log()[-3000:]

    port = worker.env["WIREWATCH_WEB_PORT"]
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
        page = await response.text()
    assert 'wirewatch_webhook_deliveries_total{outcome="delivered",webhook="good"} 2.0' in page
    assert 'wirewatch_webhook_deliveries_total{outcome="failed",webhook="bad"} 2.0' in page


async def test_worker_refuses_a_bad_webhooks_file(cluster: Cluster, tmp_path: Path) -> None:
    config = tmp_path / "webhooks.toml"
    config.write_text('[[webhook]]\nid = "desk"\nurl = "gopher://example.org/"\n')
    worker = cluster.worker(WIREWATCH_WEBHOOKS=str(config))
    assert worker.process is not None
    code = await asyncio.to_thread(worker.process.wait, 60)
    assert code == 2
    assert "webhook 'desk': option 'url' must be an http(s) URL" in worker.log()
