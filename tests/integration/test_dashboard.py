"""The dashboard in a real browser (Debian's chromium driven by playwright) on real workers.

Two workers share the app's consumer group on one-partition topics: one owns the partitions and does the
work, the other serves the page we look at. The working one is frozen (SIGSTOP) while articles arrive, so
the page must show its lag; once it resumes (SIGCONT) the alerts must arrive on the open page without a
reload, every article text shown as text.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from wirewatch.streams.records import Article
from wirewatch.streams.testing import WorkerProcess

from .conftest import Cluster

pytestmark = [pytest.mark.integration, pytest.mark.browser]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "dashboard-test-token"
XSS_TITLE = "<img src=x onerror=alert(1)>"


def base_url(worker: WorkerProcess) -> str:
    return f"http://127.0.0.1:{worker.env['WIREWATCH_WEB_PORT']}"


async def status(session: aiohttp.ClientSession, worker: WorkerProcess) -> dict[str, Any] | None:
    try:
        async with session.get(
            base_url(worker) + "/api/status", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as response:
            return await response.json() if response.status == 200 else None
    except aiohttp.ClientError:
        return None


async def wait_for(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def owns(state: dict[str, Any] | None, topic: str) -> bool:
    return bool(state) and any(a["topic"] == topic for a in state["worker"]["assigned"])  # type: ignore[index]


def articles(seed_text: str) -> list[Article]:
    seed = Article.create(
        seed_text,
        title="Security Council meets on North Korea",
        feed="seed",
        published_at="2019-12-12T10:00:00Z",
    )
    xss = Article.create(
        "North Korea fired a short-range ballistic missile into the sea off its east coast on Tuesday "
        "morning, South Korea's Joint Chiefs of Staff said. The missile flew about 450 kilometres.",
        title=XSS_TITLE,
        url="https://news.example.org/2020/06/02/launch",
        feed="hostile",
        published_at="2020-06-02T08:00:00Z",
    )
    calm = [
        Article.create(f"The regional orchestra announced concert {n} of its winter season.", feed="arts")
        for n in range(3)
    ]
    return [seed, xss, *calm]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is missing: apt-get install chromium")
async def test_dashboard_shows_lag_then_live_alerts_as_text(
    cluster: Cluster, seed_text: str, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    env = {
        "WIREWATCH_PARTITIONS": "1",
        # A frozen member keeps its partitions while frozen instead of being rebalanced away (Tansu then
        # holds each JoinGroup for half of this, so it is no longer than needed).
        "WIREWATCH_SESSION_TIMEOUT": "20",
        "WIREWATCH_API_TOKEN": TOKEN,
        "WIREWATCH_LAG_INTERVAL": "1",
    }
    raw = cluster.topic("news.raw")
    first = cluster.worker(**env)
    async with aiohttp.ClientSession() as session:
        await wait_for(lambda: _owns(session, first, raw), "the first worker to own news.raw")
        second = cluster.worker(**env)

        async def settled() -> tuple[WorkerProcess, WorkerProcess] | None:
            a, b = await status(session, first), await status(session, second)
            if a is None or b is None or a["worker"]["rebalancing"] or b["worker"]["rebalancing"]:
                return None
            # The first worker rebalanced again once the second joined; exactly one owns news.raw.
            if a["worker"]["rebalances"] < 2 or b["worker"]["rebalances"] < 1 or owns(a, raw) == owns(b, raw):
                return None
            return (first, second) if owns(a, raw) else (second, first)

        await wait_for(settled, "both workers in the group, one owning news.raw")
        await asyncio.sleep(2.0)  # let the assignment settle, then read it again
        worker, viewer = await wait_for(settled, "a stable assignment")
    batch = articles(seed_text)

    assert worker.pid is not None
    dialogs: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})

            async def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                await dialog.dismiss()

            page.on("dialog", on_dialog)
            # The token guards the page: a browser signs in once, then carries an HttpOnly cookie.
            await page.goto(base_url(viewer) + "/")
            await expect(page).to_have_url(base_url(viewer) + "/login")
            await page.fill("input[name=token]", TOKEN)
            await page.click("button[type=submit]")
            await expect(page).to_have_url(base_url(viewer) + "/")
            cookies = await page.context.cookies()
            assert any(c["name"] == "wirewatch_session" and c["httpOnly"] for c in cookies)
            await expect(page.locator("#stream-state")).to_have_text("alerts: live", timeout=30_000)

            os.kill(worker.pid, signal.SIGSTOP)
            try:
                await cluster.produce([(a.id.encode(), a.to_bytes()) for a in batch])
                lagging = page.locator("#lag tbody tr.lagging", has_text=raw)
                await expect(lagging).to_have_count(1, timeout=30_000)
                await expect(lagging.locator("td").last).to_have_text(str(len(batch)), timeout=30_000)
                assert (await lagging.locator("td").first.text_content()) == cluster.app_id
                await expect(page.locator("#alerts li")).to_have_count(0)  # nothing processed yet
                await page.screenshot(path=str(tmp_path / "dashboard-lag.png"), full_page=True)
            finally:
                os.kill(worker.pid, signal.SIGCONT)

            # The page is not reloaded: alerts arrive over the server-sent event stream.
            alerts = page.locator("#alerts li.alert")
            await expect(alerts.filter(has_text="Sea of Japan")).to_have_count(1, timeout=90_000)
            await expect(alerts.filter(has_text="Kelly Craft")).to_have_count(1, timeout=30_000)
            hostile = alerts.filter(has_text=XSS_TITLE)
            await expect(hostile).to_have_count(1, timeout=30_000)
            await expect(hostile.locator(".title")).to_have_text(XSS_TITLE)
            link = hostile.locator("a.title")
            await expect(link).to_have_attribute("href", "https://news.example.org/2020/06/02/launch")
            assert await page.locator("#alerts img").count() == 0
            assert set(await alerts.locator(".actor").all_text_contents()) == {"North Korea"}
            # Newest first: detection times never increase down the list.
            times = await alerts.locator(".line .muted").all_text_contents()
            assert times == sorted(times, reverse=True)
            await expect(page.locator("#lag tbody tr.lagging", has_text=raw)).to_have_count(0, timeout=30_000)
            await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            await browser.close()
    assert dialogs == [], f"a script from article text ran: {dialogs}"
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


async def _owns(session: aiohttp.ClientSession, worker: WorkerProcess, topic: str) -> bool:
    return owns(await status(session, worker), topic)
