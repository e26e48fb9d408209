"""The dashboard's incidents view and archive search in a real browser (Debian's chromium through
playwright) on a real worker fed with the seed and articles written for the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cluster
from .test_archive import MARKUP_TITLE, written_articles
from .test_dashboard import CHROMIUM, browser_page

pytestmark = [pytest.mark.integration, pytest.mark.browser]
TOKEN = "archive-dashboard-token"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is missing: apt-get install chromium")
async def test_incidents_view_and_search_show_the_archive_as_text(
    cluster: Cluster, seed_text: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    worker = cluster.worker(WIREWATCH_API_TOKEN=TOKEN)
    base = f"http://127.0.0.1:{worker.env['WIREWATCH_WEB_PORT']}"
    articles = written_articles(seed_text)
    await cluster.produce([(a.id.encode(), a.to_bytes()) for a in articles])
    async with browser_page(height=1200) as (page, dialogs):
        for _ in range(120):  # the worker's web server comes up with the worker
            try:
                await page.goto(base + "/login")
                break
            except Exception:
                await page.wait_for_timeout(500)
        await page.fill("input[name=token]", TOKEN)
        await page.click("button[type=submit]")
        await expect(page).to_have_url(base + "/")

        # The incidents view refreshes by itself: the seed's two incidents appear with their report.
        seed_cards = page.locator("#incidents li.incident").filter(has_text="Security Council meets on North Korea")
        await expect(seed_cards).to_have_count(2, timeout=150_000)
        assert sorted(await seed_cards.locator(".modality").all_text_contents()) == ["occurred", "possible"]
        assert set(await seed_cards.locator(".actor").all_text_contents()) == {"North Korea"}
        for card in await seed_cards.all():
            await expect(card.locator(".reports li")).to_have_count(1)
            await expect(card.locator(".reports .feed")).to_have_text(" (seed)")
            # each report in the timeline quotes its evidence, a sentence of the article, as text
            evidence = await card.locator(".timeline .evidence").all_text_contents()
            assert evidence and all(e and e in seed_text for e in evidence), evidence
        details = await seed_cards.filter(has_text="occurred").locator(".details").text_content()
        assert details is not None and "range_km: 380" in details

        # Search: the seed's article, its hit highlighted; a title with markup is text.
        await page.fill("#search-q", '"ballistic missile"')
        await page.click("#search-form button[type=submit]")
        results = page.locator("#results li.result")
        await expect(results.filter(has_text="Security Council meets on North Korea")).to_have_count(1, timeout=30_000)
        assert await results.locator(".snippet mark").count() >= 1
        await page.fill("#search-q", "rocket launch report")
        await page.select_option("select[name=kind]", "icbm")
        await page.click("#search-form button[type=submit]")
        await expect(results).to_have_count(1, timeout=30_000)
        await expect(results.locator(".title")).to_have_text(MARKUP_TITLE)
        assert await page.locator("#results script").count() == 0
        # A malformed query shows the server's reason.
        await page.fill("#search-q", '"unclosed')
        await page.click("#search-form button[type=submit]")
        await expect(page.locator("#search-note")).to_contain_text("not closed", timeout=10_000)
        await page.screenshot(path=str(tmp_path / "archive.png"), full_page=True)
    assert dialogs == [], f"a script from article text ran: {dialogs}"
