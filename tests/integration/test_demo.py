"""``wirewatch demo``: the bundled sample feed it replays is on the dashboard like any feed."""

from __future__ import annotations

from importlib import resources

import aiohttp
import pytest

from .conftest import Cluster
from .test_dashboard import status, wait_for

pytestmark = pytest.mark.integration


async def test_the_demo_feed_is_on_the_dashboard(cluster: Cluster) -> None:
    sample = resources.files("wirewatch.streams") / "data" / "demo_feed.jsonl"
    lines = len([line for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()])
    worker = cluster.worker("demo")
    async with aiohttp.ClientSession() as session:

        async def replayed() -> dict | None:
            state = await status(session, worker)
            feeds = state["feeds"] if state else {}
            done = feeds.get("feeds") and feeds["feeds"][0].get("new") == lines
            return feeds if done or (state and not feeds.get("configured")) else None

        feeds = await wait_for(replayed, "the demo feed's counters on /api/status")
    assert feeds["configured"] and [(f["id"], f["new"]) for f in feeds["feeds"]] == [("demo", lines)], feeds
