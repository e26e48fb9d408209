"""A local news site for the feed tests: RSS 2.0, Atom and article pages written for these tests, plus the
broken cases (malformed XML, 304/404/500, slow, huge, windows-1251, latin-1), served by aiohttp on
127.0.0.1. Registered as a pytest plugin in ``tests/conftest.py``, so the ``site`` fixture serves the unit
and the integration feed tests alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from tests.local_http import serve_locally
from wirewatch.streams.settings import Settings

#: The site is on loopback, where full-text fetches are refused by default (a feed's links are not
#: trusted): the feed tests that fetch its pages allow private addresses.
SITE_SETTINGS = Settings(fetch_private_addresses=True)

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
        return web.Response(body=doc.encode("latin-1"), headers={"Content-Type": "text/xml; charset=ISO-8859-1"})

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
    async with serve_locally(make_app(site)) as site.base:
        yield site
