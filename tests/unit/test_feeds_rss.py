"""RSS/Atom feeds against real local HTTP servers (aiohttp on 127.0.0.1): good feeds, full text,
conditional GET, and the broken cases (malformed XML, 304, 404, 500, slow, huge, non-UTF-8)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from tests.feed_site import CP1251_TEXT, LATIN1_TEXT, SITE_SETTINGS, STORIES, Site
from wirewatch.streams.feeds import FeedContext, FeedState, build_feed
from wirewatch.streams.feeds.config import FeedConfig
from wirewatch.streams.feeds.rss import RssFeed, html_to_text
from wirewatch.streams.feeds.runner import CallbackProducer, FeedRunner


class Collector:
    """A sink that keeps what the runner produced."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes | None, dict]] = []

    async def __call__(self, key: bytes | None, value: bytes) -> None:
        self.records.append((key, orjson.loads(value)))

    @property
    def articles(self) -> list[dict]:
        return [v for _, v in self.records]


def runner_for(feeds_options: dict[str, dict], state: FeedState | None = None) -> tuple[FeedRunner, Collector]:
    context = FeedContext(settings=SITE_SETTINGS, state=state or FeedState(":memory:"))
    feeds = [build_feed(FeedConfig(fid, "rss", opts), context) for fid, opts in feeds_options.items()]
    sink = Collector()
    return FeedRunner(feeds, CallbackProducer(sink), context), sink


# ---- tests ----------------------------------------------------------------------------------------------
def test_html_to_text_keeps_paragraphs_and_decodes_entities() -> None:
    text = html_to_text("<p>Fish &amp; chips</p><p>Second<script>var x=1</script> para</p>")
    assert text == "Fish & chips\nSecond para"


async def test_rss_articles_then_conditional_get_and_dedupe(site: Site) -> None:
    runner, sink = runner_for({"courier": {"url": f"{site.base}/rss.xml"}})
    first = (await runner.run_once())["courier"]
    assert first is not None and first.new == 2
    by_title = {a["title"]: a for a in sink.articles}
    harbour = by_title["Harbour authority opens new ferry terminal"]
    assert harbour["text"] == "The harbour authority of Port Elland opened a ferry terminal on Monday."
    assert harbour["feed"] == "courier" and harbour["lang"] == "en-gb"
    assert harbour["published_at"] == "2026-06-01T08:00:00Z"
    assert harbour["meta"]["guid"] == "story-1"
    assert [k for k, _ in sink.records] == [a["id"].encode() for a in sink.articles]

    # Same document: the ETag is sent back, the server answers 304, nothing new.
    second = (await runner.run_once())["courier"]
    assert second is not None and second.fetched == 0 and site.not_modified == 1
    # A changed feed with one old and one new story: only the new one is produced.
    site.rss_ids = [2, 3]
    third = (await runner.run_once())["courier"]
    assert third is not None and (third.new, third.duplicates) == (1, 1)
    assert len(sink.articles) == 3 and len({a["id"] for a in sink.articles}) == 3
    health = runner.feeds[0].health()
    assert (health.new, health.duplicates, health.errors) == (3, 1, 0)
    await runner.aclose()


async def test_restarted_runner_adds_no_duplicates(site: Site, tmp_path: Path) -> None:
    path = tmp_path / "feeds.sqlite"
    runner, sink = runner_for({"courier": {"url": f"{site.base}/rss.xml"}}, FeedState(path))
    await runner.run_once()
    await runner.aclose()
    runner.context.state.close()
    assert len(sink.articles) == 2

    site.rss_ids = [1, 2, 3]  # new ETag: the whole document is fetched again
    again, sink2 = runner_for({"courier": {"url": f"{site.base}/rss.xml"}}, FeedState(path))
    result = (await again.run_once())["courier"]
    assert result is not None and (result.new, result.duplicates) == (1, 2)
    assert [a["title"] for a in sink2.articles] == ["Orchard growers expect record apple harvest"]
    await again.aclose()


async def test_atom_entries_with_relative_links_and_html_content(site: Site) -> None:
    runner, sink = runner_for({"observer": {"url": f"{site.base}/atom.xml"}})
    result = (await runner.run_once())["observer"]
    assert result is not None and result.new == 2
    bridge = next(a for a in sink.articles if a["title"].startswith("Bridge"))
    assert bridge["url"] == f"{site.base}/atom/bridge"
    assert bridge["text"].startswith("The stone bridge over the Vell reopened")
    assert "Engineers replaced two arches" in bridge["text"] and "<p>" not in bridge["text"]
    assert bridge["published_at"] == "2026-06-03T09:30:00Z"
    await runner.aclose()


async def test_full_text_is_extracted_and_failures_fall_back_to_the_summary(site: Site) -> None:
    site.broken_link = True  # story 2's page answers 404
    runner, sink = runner_for({"courier": {"url": f"{site.base}/rss.xml", "full_text": True}})
    result = (await runner.run_once())["courier"]
    assert result is not None and result.new == 2
    full = next(a for a in sink.articles if a["title"].startswith("Harbour"))
    assert full["meta"]["full_text"] == "ok"
    assert "twelve sailings a day" in full["text"] and "Copyright" not in full["text"]
    assert full["meta"]["summary"].startswith("The harbour authority")
    fallback = next(a for a in sink.articles if a["title"].startswith("Regional"))
    assert fallback["meta"]["full_text"] == "failed: HTTP 404"
    assert fallback["text"] == "Councillors voted 31 to 9 to fund repairs at rural schools."
    # Pages of items already seen are not fetched again on the next poll.
    pages = site.hits.get("article", 0) + site.hits.get("missing", 0)
    site.rss_ids = [1, 2, 3]
    await runner.run_once()
    assert site.hits.get("article", 0) + site.hits.get("missing", 0) == pages + 1
    await runner.aclose()


@pytest.mark.parametrize(
    ("path", "options", "error"),
    [
        ("/malformed.xml", {}, "malformed feed"),
        ("/status/404", {}, "HTTP 404"),
        ("/status/500", {}, "HTTP 500"),
        ("/slow.xml", {"timeout": 0.3}, "timeout after 0.3s"),
        ("/huge.xml", {"max_bytes": 200_000}, "exceeds the 200000-byte limit"),
    ],
)
async def test_broken_feeds_are_errors(site: Site, path: str, options: dict, error: str) -> None:
    runner, sink = runner_for({"bad": {"url": f"{site.base}{path}", **options}})
    result = (await runner.run_once())["bad"]
    health = runner.feeds[0].health()
    assert result is None and sink.records == []
    assert health.errors == 1 and health.consecutive_errors == 1 and health.last_success is None
    assert error in (health.last_error or ""), health.last_error
    assert health.last_error_at is not None
    await runner.aclose()


@pytest.mark.parametrize(("path", "expected"), [("/cp1251.xml", CP1251_TEXT), ("/latin1.xml", LATIN1_TEXT)])
async def test_non_utf8_feeds_are_decoded(site: Site, path: str, expected: str) -> None:
    runner, sink = runner_for({"intl": {"url": f"{site.base}{path}"}})
    result = (await runner.run_once())["intl"]
    assert result is not None and result.new == 1, runner.feeds[0].health()
    assert sink.articles[0]["text"] == expected
    await runner.aclose()


async def test_broken_feed_backs_off_while_good_feed_keeps_polling(site: Site) -> None:
    fast = {"interval": 0.05, "jitter": 0.0, "backoff": 0.05, "max_backoff": 0.4}
    runner, _ = runner_for(
        {
            "good": {"url": f"{site.base}/rss.xml", **fast},
            "broken": {"url": f"{site.base}/status/500", **fast},
        }
    )
    broken = next(f for f in runner.feeds if f.id == "broken")
    delays: list[float] = []

    async def watch() -> None:
        while len(delays) < 4:
            delay = broken.health().last_delay
            if delay is not None and (not delays or delay != delays[-1]):
                delays.append(delay)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(runner.run())
    await asyncio.wait_for(watch(), timeout=10)
    runner.stop()
    await asyncio.wait_for(task, timeout=5)
    assert delays == [0.05, 0.1, 0.2, 0.4], delays  # doubles, then capped at max_backoff
    good = runner.health()["good"]
    assert good["errors"] == 0 and good["new"] == 2 and good["polls"] >= 2
    assert runner.health()["broken"]["errors"] >= 4 and runner.health()["broken"]["next_poll"]


async def test_recovered_feed_resets_backoff(site: Site) -> None:
    site.fail = True
    runner, _ = runner_for({"flaky": {"url": f"{site.base}/flaky.xml", "interval": 60, "jitter": 0.0}})
    feed = runner.feeds[0]
    assert (await runner.run_once())["flaky"] is None
    assert feed.schedule.delay(feed.health().consecutive_errors) == 10.0  # the first backoff
    site.fail = False
    assert (await runner.run_once())["flaky"] is not None
    assert feed.health().consecutive_errors == 0 and feed.schedule.delay(0) == 60.0
    await runner.aclose()


def test_rss_options_are_checked() -> None:
    from wirewatch.streams.feeds import FeedConfigError

    with pytest.raises(FeedConfigError, match=r"feed 'x': option 'url' is required"):
        RssFeed("x", {})
    with pytest.raises(FeedConfigError, match=r"feed 'x': option 'url' must be an http\(s\) URL"):
        RssFeed("x", {"url": "ftp://example.org/feed"})
    with pytest.raises(FeedConfigError, match=r"feed 'x': option 'timeout' must be a number"):
        RssFeed("x", {"url": "https://example.org/feed", "timeout": "soon"})


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/pages/slow", "failed: timeout after 0.3s"),
        ("/pages/huge", "failed: body exceeds the 100000-byte limit"),
        ("/pages/report.pdf", "failed: not HTML (application/pdf)"),
        ("/articles/gone", "failed: HTTP 404"),
    ],
)
async def test_full_text_failures_say_why(site: Site, path: str, status: str) -> None:
    from wirewatch.streams.feeds.fulltext import FullTextFetcher

    fetcher = FullTextFetcher(allowed=None)  # the site is on loopback
    try:
        result = await fetcher.fetch(f"{site.base}{path}", timeout=0.3, max_bytes=100_000)
    finally:
        await fetcher.aclose()
    assert result.text is None and result.status == status


async def test_full_text_fetches_respect_the_per_host_limit(site: Site) -> None:
    site.rss_ids = [1, 2, 3]
    site.page_delay = 0.1
    runner, sink = runner_for({"courier": {"url": f"{site.base}/rss.xml", "full_text": True, "full_text_per_host": 1}})
    await runner.run_once()
    assert site.hits["article"] == 3 and site.peak_pages == 1
    assert all(a["meta"]["full_text"] == "ok" for a in sink.articles)
    await runner.aclose()

    site.hits.clear()
    runner, _ = runner_for({"courier": {"url": f"{site.base}/rss.xml", "full_text": True, "full_text_per_host": 3}})
    await runner.run_once()
    assert site.hits["article"] == 3 and site.peak_pages == 3  # the limit, not chance, held it to 1 above
    await runner.aclose()


async def test_max_items_caps_each_poll(site: Site) -> None:
    site.rss_ids = [1, 2, 3]
    runner, sink = runner_for({"courier": {"url": f"{site.base}/rss.xml", "max_items": 2}})
    result = (await runner.run_once())["courier"]
    assert result is not None and result.fetched == 2
    assert [a["title"] for a in sink.articles] == [STORIES[1][0], STORIES[2][0]]
    await runner.aclose()
