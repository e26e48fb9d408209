"""POST /api/ingest: good, bad and mixed batches, JSON / array / JSONL bodies, token, size limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from wirewatch.streams.feeds.push import ROUTE, BadBody, PushIngest, split_items
from wirewatch.streams.feeds.runner import CallbackProducer
from wirewatch.streams.records import article_id

TOKEN = "s3cret-token"
GOOD = {
    "url": "https://example.test/news/dam",
    "title": "Dam inspection",
    "text": "Engineers inspected the dam.",
}
OTHER = {"title": "Choir concert", "text": "The town choir sings on Sunday evening."}


class Harness:
    def __init__(self, client: TestClient, produced: list[tuple[bytes | None, bytes]], ingest: PushIngest) -> None:
        self.client, self.produced, self.ingest = client, produced, ingest

    async def post(self, body: bytes, *, token: str | None = TOKEN, **headers: str) -> tuple[int, dict]:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.client.post(ROUTE, data=body, headers=headers)
        return response.status, await response.json()


async def make(token: str | None = TOKEN, max_bytes: int = 100_000, fail: bool = False) -> tuple[Harness, TestClient]:
    produced: list[tuple[bytes | None, bytes]] = []

    async def send(key: bytes | None, value: bytes) -> None:
        if fail:
            raise ConnectionError("broker down")
        produced.append((key, value))

    ingest = PushIngest(CallbackProducer(send), token=token, max_bytes=max_bytes)
    app = web.Application()
    app.router.add_post(ROUTE, ingest)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return Harness(client, produced, ingest), client


@pytest.fixture
async def api() -> AsyncIterator[Harness]:
    harness, client = await make()
    yield harness
    await client.close()


async def test_single_object_is_produced_with_its_id_as_key(api: Harness) -> None:
    status, body = await api.post(orjson.dumps(GOOD), **{"Content-Type": "application/json"})
    expected = article_id(GOOD["url"], GOOD["title"], GOOD["text"])
    assert status == 200 and body["accepted"] == 1 and body["rejected"] == 0
    assert body["results"] == [{"index": 0, "status": "accepted", "id": expected}]
    key, value = api.produced[0]
    record = orjson.loads(value)
    assert key == expected.encode() and record["id"] == expected
    assert record["feed"] == "push" and record["fetched_at"] and record["schema"] == "wirewatch.article/v1"


async def test_array_and_feed_parameter(api: Harness) -> None:
    response = await api.client.post(
        f"{ROUTE}?feed=partner-wire",
        data=orjson.dumps([GOOD, OTHER]),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    body = await response.json()
    assert response.status == 200 and body["accepted"] == 2
    assert [orjson.loads(v)["feed"] for _, v in api.produced] == ["partner-wire", "partner-wire"]


async def test_mixed_jsonl_batch_reports_each_bad_item(api: Harness) -> None:
    lines = b"\n".join(
        [
            orjson.dumps(GOOD),
            b"{not json",
            orjson.dumps({"title": "no text"}),
            b"",
            orjson.dumps(OTHER),
            orjson.dumps({"text": "x", "published_at": "yesterday"}),
        ]
    )
    status, body = await api.post(lines, **{"Content-Type": "application/x-ndjson"})
    assert status == 200 and (body["accepted"], body["rejected"]) == (2, 3)
    rejected = {r["index"]: r["reason"] for r in body["results"] if r["status"] == "rejected"}
    assert rejected == {1: "not_json", 2: "missing_text", 4: "bad_timestamp"}
    assert all(r["error"] for r in body["results"] if r["status"] == "rejected")
    assert [orjson.loads(v)["title"] for _, v in api.produced] == ["Dam inspection", "Choir concert"]


async def test_jsonl_is_recognised_without_a_content_type(api: Harness) -> None:
    status, body = await api.post(orjson.dumps(GOOD) + b"\n" + orjson.dumps(OTHER) + b"\n")
    assert status == 200 and body["accepted"] == 2


async def test_all_bad_batch_is_400_and_produces_nothing(api: Harness) -> None:
    status, body = await api.post(orjson.dumps([{"title": "a"}, 5, {"text": "  "}]))
    assert status == 400 and body["accepted"] == 0
    assert [r["reason"] for r in body["results"]] == ["missing_text", "not_object", "empty_text"]
    assert api.produced == []


@pytest.mark.parametrize(
    ("raw", "error"),
    [(b"", "empty"), (b"42", "not int"), (b"\xff\xfe{}", "not UTF-8"), (b"{oops", "not JSON")],
)
async def test_unreadable_bodies_are_400(api: Harness, raw: bytes, error: str) -> None:
    status, body = await api.post(raw)
    assert status == 400 and error in body["error"] and api.produced == []


async def test_token_is_required_when_configured(api: Harness) -> None:
    for token in (None, "wrong", ""):
        response = await api.client.post(
            ROUTE,
            data=orjson.dumps(GOOD),
            headers={} if token is None else {"Authorization": f"Bearer {token}"},
        )
        assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    response = await api.client.post(ROUTE, data=orjson.dumps(GOOD), headers={"Authorization": f"Basic {TOKEN}"})
    assert response.status == 401
    assert api.produced == [] and api.ingest.stats.refused == {401: 4}


async def test_no_token_configured_accepts_anonymous_posts() -> None:
    harness, client = await make(token=None)
    try:
        status, body = await harness.post(orjson.dumps(GOOD), token=None)
        assert status == 200 and body["accepted"] == 1
    finally:
        await client.close()


async def test_oversized_body_is_413() -> None:
    harness, client = await make(max_bytes=2000)
    try:
        big = orjson.dumps({"title": "long", "text": "word " * 1000})
        status, body = await harness.post(big)
        assert status == 413 and "2000" in body["error"] and harness.produced == []

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the streaming cap must hold
            for _ in range(10):
                yield b" " * 500

        response = await client.post(ROUTE, data=chunks(), headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status == 413
        status, _ = await harness.post(orjson.dumps(GOOD))
        assert status == 200
    finally:
        await client.close()


async def test_broker_failure_is_503() -> None:
    harness, client = await make(fail=True)
    try:
        status, body = await harness.post(orjson.dumps(GOOD))
        assert status == 503 and "ConnectionError" in body["error"]
    finally:
        await client.close()


def test_split_items() -> None:
    assert split_items(b'{"text": "a"}') == [b'{"text": "a"}']
    assert [orjson.loads(i) for i in split_items(b'[{"text": "a"}, {"text": "b"}]')] == [
        {"text": "a"},
        {"text": "b"},
    ]
    assert split_items(b'{"text": "a"}\n\n{"text": "b"}\n') == [b'{"text": "a"}', b'{"text": "b"}']
    # One document per line even when the whole body happens to be a single JSON value.
    assert split_items(b'{"text": "a"}', "application/jsonl") == [b'{"text": "a"}']
    with pytest.raises(BadBody):
        split_items(b"   \n")


# ---- issue 20: deep nesting, hostile ids, slow bodies ------------------------------------------------------
def nested(levels: int) -> dict:
    """An article whose ``meta`` nests objects ``levels`` deep (built as text: no recursion here)."""
    meta = b'{"a":' * levels + b"1" + b"}" * levels
    return orjson.loads(b'{"title": "Deep", "text": "Nested metadata.", "meta": ' + meta + b"}")


@pytest.mark.parametrize("levels", [63, 253, 300, 1000])
@pytest.mark.parametrize("feed", [None, "partner"])
async def test_deeply_nested_item_is_a_400_with_its_reason(api: Harness, levels: int, feed: str | None) -> None:
    """Was a 500 (no feed: orjson's TypeError) or a 503 "broker did not accept" (with a feed) from 253 up."""
    body = (
        orjson.dumps(nested(levels))
        if levels < 250
        else b'{"text": "x", "meta": ' + b'{"a":' * levels + b"1" + b"}" * levels + b"}"
    )
    response = await api.client.post(
        ROUTE + (f"?feed={feed}" if feed else ""), data=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    result = await response.json()
    if levels < 64:  # the article is level 1, meta level 2: 63 nested objects make 64 levels
        assert response.status == 200 and result["accepted"] == 1
    else:
        assert response.status == 400 and result["accepted"] == 0
        assert result["results"] == [
            {"index": 0, "status": "rejected", "reason": "too_deep", "error": result["results"][0]["error"]}
        ]
        assert "64" in result["results"][0]["error"] and api.produced == []


async def test_deep_items_in_arrays_and_jsonl_are_refused_alone(api: Harness) -> None:
    deep = b'{"text": "x", "meta": ' + b"[" * 300 + b"]" * 300 + b"}"
    array = b"[" + orjson.dumps(GOOD) + b"," + deep + b"," + orjson.dumps(OTHER) + b"]"
    status, body = await api.post(array)
    assert status == 200 and (body["accepted"], body["rejected"]) == (2, 1)
    assert body["results"][1] == {
        "index": 1,
        "status": "rejected",
        "reason": "too_deep",
        "error": body["results"][1]["error"],
    }
    lines = orjson.dumps(GOOD) + b"\n" + deep + b"\n"
    status, body = await api.post(lines, **{"Content-Type": "application/x-ndjson"})
    assert status == 200 and [r.get("reason") for r in body["results"]] == [None, "too_deep"]
    assert len(api.produced) == 3


@pytest.mark.parametrize(
    ("item_id", "why"),
    [("k" * 90_000, "90000 characters"), ("abc\x00def", "control"), ("abc\ndef", "control"), ("x\u202ey", "format")],
)
async def test_a_client_id_that_cannot_be_a_key_is_refused(api: Harness, item_id: str, why: str) -> None:
    status, body = await api.post(orjson.dumps({**GOOD, "id": item_id}))
    assert status == 400 and body["results"][0]["reason"] == "bad_id" and why in body["results"][0]["error"]
    assert api.produced == []
    status, body = await api.post(orjson.dumps({**GOOD, "id": "partner-2026-0001"}))
    assert status == 200 and api.produced[0][0] == b"partner-2026-0001"


async def test_a_body_sent_too_slowly_is_408() -> None:
    produced: list[tuple[bytes | None, bytes]] = []

    async def send(key: bytes | None, value: bytes) -> None:
        produced.append((key, value))

    ingest = PushIngest(CallbackProducer(send), token=TOKEN, max_bytes=100_000, read_timeout=0.5)
    app = web.Application()
    app.router.add_post(ROUTE, ingest)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:

        async def trickle() -> AsyncIterator[bytes]:
            yield b'{"text": '
            await asyncio.sleep(2.0)
            yield b'"late"}'

        response = await client.post(ROUTE, data=trickle(), headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status == 408 and "0.5 s" in (await response.json())["error"]
    assert produced == []
