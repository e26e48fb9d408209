"""The archive's HTTP API answers (a real aiohttp server on loopback over a real SQLite archive): a bad
parameter is a 400 with the reason, an unknown incident a 404, every answer with the security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from wirewatch.streams.store.sqlite import SqliteStore
from wirewatch.streams.web.archive import build_archive_routes
from wirewatch.streams.web.server import SECURITY_HEADERS


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    store = SqliteStore(tmp_path / "archive.sqlite3")
    app = web.Application()
    for method, path, handler in build_archive_routes(store):
        app.router.add_route(method, path, handler)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client
    store.close()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ('/api/search?q="open', "a phrase is not closed"),
        ("/api/search?q=missile&limit=101", "limit must be between 1 and 100"),
        ("/api/search?since=last+week", "since must be a date"),
        ("/api/search?order=random", "order must be one of"),
        ("/api/incidents?limit=201", "limit must be between 1 and 200"),
        ("/api/incidents?limit=ten", "limit must be a number, not 'ten'"),
        ("/api/incidents?until=tomorrow", "until must be a date"),
    ],
)
async def test_a_bad_parameter_is_a_400_with_the_reason(client: TestClient, path: str, reason: str) -> None:
    response = await client.get(path)
    assert response.status == 400
    assert reason in (await response.json())["error"]
    assert response.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]


async def test_good_requests_answer_from_the_store(client: TestClient) -> None:
    search = await client.get("/api/search?q=missile&limit=5")
    assert search.status == 200 and (await search.json())["results"] == []
    incidents = await client.get("/api/incidents?limit=200")
    assert incidents.status == 200 and await incidents.json() == {"incidents": []}
    missing = await client.get("/api/incidents/nope")
    assert missing.status == 404 and await missing.json() == {"error": "no incident 'nope' in the archive"}
    assert missing.headers["X-Frame-Options"] == "DENY"
