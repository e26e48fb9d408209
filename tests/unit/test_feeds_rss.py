"""RSS/Atom feeds against real local HTTP servers (aiohttp on 127.0.0.1): good feeds, full text,
conditional GET, and the broken cases (malformed XML, 304, 404, 500, slow, huge, non-UTF-8)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from wirewatch.streams.feeds import FeedContext, FeedState, build_feed
from wirewatch.streams.feeds.config import FeedConfig
from wirewatch.streams.feeds.rss import RssFeed, html_to_text
from wirewatch.streams.feeds.runner import CallbackSink, FeedRunner

# ---- the site: feeds and article pages written for these tests ------------------------------------------
STORIES = {
    1: (
        "Harbour authority opens new ferry terminal",
        "The harbour authority of Port Elland opened a ferry terminal on Monday.",
        [
            "The harbour authority of Port Elland opened its new ferry terminal on Monday morning, "
            "ending three years of construction on the eastern quay.",
            "Officials said the terminal can handle twelve sailings a day and will shorten waiting "
            "times for passengers travelling to the outer islands during the summer season.",
            "Local traders welcomed the opening, saying the old landing stage had been too small "
            "for the crowds that arrive every weekend from the mainland.",
        ],
    ),
    2: (
        "Regional council approves budget for rural schools",
        "Councillors voted 31 to 9 to fund repairs at rural schools.",
        [
            "The regional council approved a budget on Tuesday that sets aside money for repairs at "
            "forty rural schools, after a debate that lasted most of the afternoon.",
            "Councillors voted 31 to 9 in favour of the plan, which includes new roofs, heating "
            "systems and accessible entrances at the oldest buildings.",
            "Parents' associations said they had campaigned for the repairs for nearly a decade and "
            "thanked the council for listening to families in the countryside.",
        ],
    ),
    3: (
        "Orchard growers expect record apple harvest",
        "Growers in the Vell valley expect a record harvest this autumn.",
        [
            "Orchard growers in the Vell valley expect a record apple harvest this autumn thanks to a "
            "mild spring and steady rain through the summer months.",
            "The growers' cooperative said it would hire two hundred seasonal pickers and open a "
            "second cold store to keep the fruit fresh until the winter markets.",
            "Exporters added that buyers from three neighbouring countries had already placed orders "
            "for the early varieties.",
        ],
    ),
}


def rss_document(base: str, ids: list[int], *, broken_link: bool = False) -> str:
    items = []
    for i in ids:
        title, summary, _ = STORIES[i]
        # With broken_link, story 2 links to a page that answers 404.
        link = f"{base}/articles/missing-{i}" if broken_link and i == 2 else f"{base}/articles/{i}"
        items.append(
            f"<item><title>{title}</title><link>{link}?utm_source=rss</link>"
            f'<guid isPermaLink="false">story-{i}</guid>'
            f"<pubDate>Mon, 0{i} Jun 2026 08:00:00 GMT</pubDate>"
            f"<description>&lt;p&gt;{summary}&lt;/p&gt;</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Elland Courier</title>'
        f"<link>{base}/</link><language>en-gb</language><description>Local news</description>"
        + "".join(items)
        + "</channel></rss>"
    )


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>Vell Valley Observer</title><id>urn:observer</id><updated>2026-06-03T10:00:00Z</updated>
  <entry><title>Bridge over the Vell reopens after repairs</title><id>urn:observer:1</id>
    <link href="/atom/bridge"/><updated>2026-06-03T09:30:00Z</updated>
    <content type="html">&lt;p&gt;The stone bridge over the Vell reopened to traffic on Wednesday.&lt;/p&gt;
    &lt;p&gt;Engineers replaced two arches damaged in the spring floods.&lt;/p&gt;</content></entry>
  <entry><title>Library extends opening hours</title><id>urn:observer:2</id>
    <link href="/atom/library"/><updated>2026-06-02T15:00:00Z</updated>
    <summary>The town library will stay open until nine on weekdays.</summary></entry>
</feed>"""

CP1251_TEXT = "Городской совет Ельска утвердил план ремонта дорог."
LATIN1_TEXT = "Le conseil municipal de Vérance a approuvé le budget des écoles."


def article_page(i: int) -> str:
    title, _, paragraphs = STORIES[i]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/sport'>Sport</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer>Copyright Elland Courier</footer></body></html>"
    )


@dataclass
class Site:
    base: str = ""
    rss_ids: list[int] = field(default_factory=lambda: [1, 2])
    hits: dict[str, int] = field(default_factory=dict)
    not_modified: int = 0
    broken_link: bool = False
    fail: bool = False  # /flaky.xml answers 500 while set
    page_delay: float = 0.0  # article pages answer after this long
    active_pages: int = 0
    peak_pages: int = 0


def make_app(site: Site) -> web.Application:
    def hit(name: str) -> None:
        site.hits[name] = site.hits.get(name, 0) + 1

    async def rss(request: web.Request) -> web.Response:
        hit("rss")
        etag = '"v-' + "-".join(map(str, site.rss_ids)) + '"'
        if request.headers.get("If-None-Match") == etag:
            site.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        body = rss_document(site.base, site.rss_ids, broken_link=site.broken_link)
        return web.Response(body=body.encode(), content_type="application/rss+xml", headers={"ETag": etag})

    async def atom(request: web.Request) -> web.Response:
        hit("atom")
        return web.Response(body=ATOM.encode(), content_type="application/atom+xml")

    async def article(request: web.Request) -> web.Response:
        hit("article")
        site.active_pages += 1
        site.peak_pages = max(site.peak_pages, site.active_pages)
        try:
            await asyncio.sleep(site.page_delay)
        finally:
            site.active_pages -= 1
        return web.Response(text=article_page(int(request.match_info["n"])), content_type="text/html")

    async def missing(request: web.Request) -> web.Response:
        hit("missing")
        return web.Response(status=404, text="not here")

    async def malformed(request: web.Request) -> web.Response:
        return web.Response(body=b"<<this is not > xml & not a feed", content_type="application/xml")

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="error page")

    async def flaky(request: web.Request) -> web.Response:
        hit("flaky")
        if site.fail:
            return web.Response(status=500, text="boom")
        return web.Response(body=rss_document(site.base, [3]).encode(), content_type="application/rss+xml")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(body=rss_document(site.base, [1]).encode(), content_type="application/rss+xml")

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)  # chunked: no Content-Length, the cap must hold while streaming
        await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>')
        chunk = b"<item><title>padding</title><description>" + b"x" * 8000 + b"</description></item>"
        for _ in range(300):
            await response.write(chunk)
        await response.write(b"</channel></rss>")
        return response

    async def cp1251(request: web.Request) -> web.Response:
        doc = (
            '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>Вести</title>'
            f"<item><title>Ремонт дорог</title><link>{site.base}/ru/1</link>"
            f"<description>{CP1251_TEXT}</description></item></channel></rss>"
        )
        return web.Response(body=doc.encode("cp1251"), headers={"Content-Type": "application/xml"})

    async def latin1(request: web.Request) -> web.Response:
        doc = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Nouvelles</title>'
            f"<item><title>Budget des écoles</title><link>{site.base}/fr/1</link>"
            f"<description>{LATIN1_TEXT}</description></item></channel></rss>"
        )
        return web.Response(
            body=doc.encode("latin-1"), headers={"Content-Type": "text/xml; charset=ISO-8859-1"}
        )

    async def slow_page(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text=article_page(1), content_type="text/html")

    async def huge_page(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        for _ in range(100):
            await response.write(b"<p>" + b"filler words " * 700 + b"</p>")
        return response

    async def pdf(request: web.Request) -> web.Response:
        return web.Response(body=b"%PDF-1.4", content_type="application/pdf")

    app = web.Application()
    app.router.add_get("/pages/slow", slow_page)
    app.router.add_get("/pages/huge", huge_page)
    app.router.add_get("/pages/report.pdf", pdf)
    app.router.add_get("/rss.xml", rss)
    app.router.add_get("/atom.xml", atom)
    app.router.add_get("/articles/{n:\\d+}", article)
    app.router.add_get("/articles/{name}", missing)
    app.router.add_get("/malformed.xml", malformed)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/flaky.xml", flaky)
    app.router.add_get("/slow.xml", slow)
    app.router.add_get("/huge.xml", huge)
    app.router.add_get("/cp1251.xml", cp1251)
    app.router.add_get("/latin1.xml", latin1)
    return app


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    site = Site()
    server = TestServer(make_app(site), host="127.0.0.1")
    await server.start_server()
    site.base = str(server.make_url("")).rstrip("/")
    try:
        yield site
    finally:
        await server.close()


class Collector:
    """A sink that keeps what the runner produced."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes | None, dict]] = []

    async def __call__(self, key: bytes | None, value: bytes) -> None:
        self.records.append((key, orjson.loads(value)))

    @property
    def articles(self) -> list[dict]:
        return [v for _, v in self.records]


def runner_for(
    feeds_options: dict[str, dict], state: FeedState | None = None
) -> tuple[FeedRunner, Collector]:
    context = FeedContext(state=state or FeedState(":memory:"))
    feeds = [build_feed(FeedConfig(fid, "rss", opts), context) for fid, opts in feeds_options.items()]
    sink = Collector()
    return FeedRunner(feeds, CallbackSink(sink), context), sink


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

    context = FeedContext()
    try:
        result = await FullTextFetcher(context.http).fetch(
            f"{site.base}{path}", timeout=0.3, max_bytes=100_000
        )
    finally:
        await context.aclose()
    assert result.text is None and result.status == status


async def test_full_text_fetches_respect_the_per_host_limit(site: Site) -> None:
    site.rss_ids = [1, 2, 3]
    site.page_delay = 0.1
    runner, sink = runner_for(
        {"courier": {"url": f"{site.base}/rss.xml", "full_text": True, "full_text_per_host": 1}}
    )
    await runner.run_once()
    assert site.hits["article"] == 3 and site.peak_pages == 1
    assert all(a["meta"]["full_text"] == "ok" for a in sink.articles)
    await runner.aclose()

    site.hits.clear()
    runner, _ = runner_for(
        {"courier": {"url": f"{site.base}/rss.xml", "full_text": True, "full_text_per_host": 3}}
    )
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
