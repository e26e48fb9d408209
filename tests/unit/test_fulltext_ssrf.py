"""Full-text fetches never reach the worker's own network unless allowed (issue 20, concerns): the
address each connection is about to use is checked, after DNS resolution and on every redirect."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.feed_site import Site
from wirewatch.streams.feeds import FeedContext, FeedState, build_feed
from wirewatch.streams.feeds.config import FeedConfig
from wirewatch.streams.feeds.fulltext import FullTextFetcher, is_public_address
from wirewatch.streams.feeds.runner import CallbackProducer, FeedRunner
from wirewatch.streams.settings import Settings

SECRET = "Internal admin page: the worker's network must never read this into an article."


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.8.8",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "ff02::1",
        "not-an-address",
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_global_addresses_are_public(address: str) -> None:
    assert is_public_address(address)


@pytest.fixture
async def internal() -> dict[str, int]:
    """A server on 127.0.0.1 standing for the worker's internal network, counting its hits."""
    hits = {"secret": 0}

    async def secret(request: web.Request) -> web.Response:
        hits["secret"] += 1
        body = f"<html><body><article><h1>Admin</h1><p>{SECRET}</p><p>{SECRET}</p></article></body></html>"
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/secret", secret)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hits["port"] = server.port or 0
    yield hits
    await server.close()


@pytest.fixture
async def outside(internal: dict[str, int]) -> str:
    """A server on 127.0.0.2 standing for a public site whose pages redirect into the internal one."""

    async def to_ip(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://127.0.0.1:{internal['port']}/secret")

    async def to_name(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://localhost:{internal['port']}/secret")

    app = web.Application()
    app.router.add_get("/to-ip", to_ip)
    app.router.add_get("/to-name", to_name)
    server = TestServer(app, host="127.0.0.2")
    await server.start_server()
    yield f"http://127.0.0.2:{server.port}"
    await server.close()


def only_outside(address: str) -> bool:
    """The policy under test with 127.0.0.2 playing the public internet."""
    return address == "127.0.0.2"


@pytest.mark.parametrize("path", ["/to-ip", "/to-name"])
async def test_a_redirect_into_the_internal_network_is_refused(
    internal: dict[str, int], outside: str, path: str
) -> None:
    fetcher = FullTextFetcher(allowed=only_outside)
    try:
        result = await fetcher.fetch(outside + path, timeout=5.0)
    finally:
        await fetcher.aclose()
    assert result.text is None and "not a public address" in result.status
    assert internal["secret"] == 0

    # The same redirect, allowed, does reach the page: the refusal above is the guard's, not the setup's.
    fetcher = FullTextFetcher(allowed=None)
    try:
        result = await fetcher.fetch(outside + path, timeout=5.0)
    finally:
        await fetcher.aclose()
    assert result.status == "ok" and SECRET in (result.text or "") and internal["secret"] == 1


async def test_a_name_resolving_to_loopback_is_refused(internal: dict[str, int]) -> None:
    fetcher = FullTextFetcher()  # the default: public addresses only
    try:
        for url in (f"http://localhost:{internal['port']}/secret", f"http://127.0.0.1:{internal['port']}/secret"):
            result = await fetcher.fetch(url, timeout=5.0)
            assert result.text is None and "not a public address" in result.status, url
    finally:
        await fetcher.aclose()
    assert internal["secret"] == 0


async def runner_with(settings: Settings, site: Site) -> tuple[FeedRunner, list[dict]]:
    import orjson

    articles: list[dict] = []

    async def collect(key: bytes | None, value: bytes) -> None:
        articles.append(orjson.loads(value))

    context = FeedContext(settings=settings, state=FeedState(":memory:"))
    feed = build_feed(FeedConfig("courier", "rss", {"url": f"{site.base}/rss.xml", "full_text": True}), context)
    return FeedRunner([feed], CallbackProducer(collect), context), articles


async def test_a_feed_on_loopback_polls_but_its_links_are_not_fetched_by_default(site: Site) -> None:
    runner, articles = await runner_with(Settings(), site)
    try:
        await runner.run_once()
    finally:
        await runner.aclose()
    assert site.hits["rss"] == 1 and "article" not in site.hits  # the operator's feed URL is trusted
    assert len(articles) == 2
    assert all("not a public address" in a["meta"]["full_text"] for a in articles)
    assert all(a["text"] for a in articles)  # the summary stays

    runner, articles = await runner_with(Settings(fetch_private_addresses=True), site)
    try:
        await runner.run_once()
    finally:
        await runner.aclose()
    assert site.hits["article"] == 2 and all(a["meta"]["full_text"] == "ok" for a in articles)
