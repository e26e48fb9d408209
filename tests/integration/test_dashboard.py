"""The dashboard in a real browser (Debian's chromium driven by playwright) on real workers.

Two workers share the app's consumer group on one-partition topics: one owns the partitions and does the
work, the other serves the page we look at. The working one is frozen (SIGSTOP) while articles arrive, so
the page must show its lag; once it resumes (SIGCONT) the alerts must arrive on the open page without a
reload, every article text shown as text.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
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
# A right-to-left override would make the title read backwards; the URL is relative (same origin).
RTL_TITLE = "Launch report \u202etxet desrever\u202c ends"


@contextlib.asynccontextmanager
async def browser_page(height: int) -> AsyncIterator[tuple[Any, list[str]]]:
    """A page 1400 px wide in headless Debian chromium, and the messages of the dialogs it opened (each one
    dismissed: on these pages a dialog is a script from article text that ran)."""
    from playwright.async_api import async_playwright  # only the browser tests need playwright

    dialogs: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": height})

            async def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                await dialog.dismiss()

            page.on("dialog", on_dialog)
            yield page, dialogs
        finally:
            await browser.close()


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
    relative = Article.create(
        "North Korea launched a ballistic missile from its west coast on Thursday evening, Japan's defence "
        "ministry said. The missile fell into the sea outside Japan's exclusive economic zone.",
        title=RTL_TITLE,
        url="/api/status",
        feed="hostile",
        published_at="2020-06-04T18:00:00Z",
    )
    calm = [
        Article.create(f"The regional orchestra announced concert {n} of its winter season.", feed="arts")
        for n in range(3)
    ]
    return [seed, xss, relative, *calm]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is missing: apt-get install chromium")
async def test_dashboard_shows_lag_then_live_alerts_as_text(cluster: Cluster, seed_text: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    env = {
        "WIREWATCH_PARTITIONS": "1",
        # A frozen member keeps its partitions while frozen instead of being rebalanced away (Tansu then
        # holds each JoinGroup for half of this, so it is no longer than needed: 12 s, 20 s before, is more
        # than three times the ~3.5 s the worker stays frozen below, and saves two 4 s holds).
        "WIREWATCH_SESSION_TIMEOUT": "12",
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
    async with browser_page(height=1000) as (page, dialogs):
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
        # The evidence sentence, read from the record's {text, start, end} objects the API passes on.
        await expect(hostile.locator(".evidence li").first).to_have_text(re.compile("^North Korea fired a short"))
        link = hostile.locator("a.title")
        await expect(link).to_have_attribute("href", "https://news.example.org/2020/06/02/launch")
        assert await page.locator("#alerts img").count() == 0
        # The override is dropped from what is shown, and a relative URL is not a link into the page.
        rtl = alerts.filter(has_text="Launch report")
        await expect(rtl).to_have_count(1, timeout=30_000)
        await expect(rtl.locator(".title")).to_have_text("Launch report txet desrever ends")
        assert await rtl.locator("a").count() == 0
        assert set(await alerts.locator(".actor").all_text_contents()) == {"North Korea"}
        # Newest first: detection times never increase down the list.
        times = await alerts.locator(".line .muted").all_text_contents()
        assert times == sorted(times, reverse=True)
        await expect(page.locator("#lag tbody tr.lagging", has_text=raw)).to_have_count(0, timeout=30_000)
        await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert dialogs == [], f"a script from article text ran: {dialogs}"
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


async def _owns(session: aiohttp.ClientSession, worker: WorkerProcess, topic: str) -> bool:
    return owns(await status(session, worker), topic)


async def test_json_apis_and_the_alert_stream(cluster: Cluster) -> None:
    """/api/alerts, /api/lag, /api/status and the server-sent events of one worker, with and without token."""
    worker = cluster.worker(WIREWATCH_API_TOKEN=TOKEN, WIREWATCH_LAG_INTERVAL="1")
    url = base_url(worker)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    launch = Article.create(
        "Japan's defence ministry said North Korea launched an intercontinental ballistic missile on Friday "
        "that reached an altitude of about 6,000 kilometres before falling into the sea.",
        title="ICBM launch",
        url="https://news.example.org/icbm",
        feed="api-test",
        published_at="2022-11-18T05:00:00Z",
    )
    async with aiohttp.ClientSession() as session:
        await wait_for(lambda: status(session, worker), "the worker's web server")
        for path in ("/api/status", "/api/alerts", "/api/lag", "/api/alerts/stream"):
            async with session.get(url + path) as response:
                assert response.status == 401, path
        async with session.get(url + "/api/alerts/stream", headers=auth) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            await cluster.produce([(launch.id.encode(), launch.to_bytes())])
            event: dict[str, str] = {}
            deadline = time.monotonic() + 90
            while "data" not in event and time.monotonic() < deadline:
                line = (await asyncio.wait_for(stream.content.readline(), timeout=90)).decode().rstrip("\n")
                if line.startswith(("event:", "id:", "data:")):
                    key, _, value = line.partition(":")
                    event[key] = value.strip()
        assert event.get("event") == "alert", worker.log()[-3000:]
        streamed = orjson.loads(event["data"])
        assert streamed["url"] == launch.url and streamed["kind"] == "icbm"
        assert event["id"] == streamed["alert_id"]

        async with session.get(url + "/api/alerts?limit=5", headers=auth) as response:
            listed = (await response.json())["alerts"]
        assert [a["alert_id"] for a in listed] == [streamed["alert_id"]]
        # The Alert record's evidence objects: the sentence and its character offsets into the article.
        evidence = listed[0]["evidence"][0]
        assert "intercontinental" in evidence["text"]
        assert launch.text[evidence["start"] : evidence["end"]] == evidence["text"]
        assert streamed["evidence"] == listed[0]["evidence"]

        async def caught_up() -> dict[str, Any] | None:
            async with session.get(url + "/api/lag", headers=auth) as response:
                lag = await response.json()
            rows = [r for r in lag["rows"] if r["topic"] == cluster.topic("news.raw")]
            filled = [r for r in rows if r["end"]]
            raw_done = len(filled) == 1 and filled[0]["committed"] == filled[0]["end"] == 1
            # The findings topic is committed on the next commit tick after news.raw: wait for both.
            return lag if raw_done and lag["total"] == 0 else None

        lag = await wait_for(caught_up, "the worker's commits (news.raw, then findings) to show")
        assert lag["groups"][0] == cluster.app_id
        assert {r["topic"] for r in lag["rows"]} >= {cluster.topic("news.raw"), f"{cluster.app_id}-findings-by-actor"}

        async with session.get(url + "/api/status", headers=auth) as response:
            state = await response.json()
        raw_rate = next(t for t in state["throughput"]["topics"] if t["topic"] == cluster.topic("news.raw"))
        assert raw_rate["total"] == 1
        assert state["feeds"] == {"configured": False, "feeds": []}
        assert state["processing"]["enrich"]["count"] == 1
        assert state["alerts"]["count"] == 1
