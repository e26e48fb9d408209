"""The foundation end to end: a real worker on a real broker (Tansu or Apache Kafka)."""

from __future__ import annotations

from collections import Counter

import jsonschema
import orjson
import pytest

from wirewatch.streams.records import Article, json_schema

from .conftest import Cluster

pytestmark = pytest.mark.integration

INVALID = [
    (b"bad-utf8", b"\xff\xfe\xfd not utf-8", "not_utf8"),
    (b"bad-json", b"{this is not json", "not_json"),
    (b"no-text", orjson.dumps({"title": "headline only"}), "missing_text"),
    (b"empty", orjson.dumps({"text": "   "}), "empty_text"),
    (b"wrong-type", orjson.dumps({"text": ["a", "list"]}), "wrong_type"),
    (b"future", orjson.dumps({"text": "x", "schema": "wirewatch.article/v7"}), "unknown_schema"),
]


def by_id(records: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in records}


async def test_seed_is_enriched_and_invalid_records_are_dead_lettered(cluster: Cluster, seed_text: str) -> None:
    seed = Article.create(seed_text, feed="seed", title="Russia urges diplomacy")
    after = Article.create("South Korea and Japan held talks in Tokyo on Friday.", feed="seed")
    worker = cluster.worker()
    # Invalid records sit between two good ones: the worker must survive them and go on.
    records = [(seed.id.encode(), seed.to_bytes()), *((k, v) for k, v, _ in INVALID)]
    await cluster.produce([*records, (after.id.encode(), after.to_bytes())])
    enriched = await cluster.consume("news.enriched", lambda rs: {seed.id, after.id} <= set(by_id(rs)))
    letters = await cluster.consume("news.deadletter", lambda rs: len(rs) >= len(INVALID))
    assert {seed.id, after.id} <= set(by_id(enriched)), worker.log()[-3000:]

    record = by_id(enriched)[seed.id]
    jsonschema.validate({k: v for k, v in record.items() if k != "_key"}, json_schema("enriched"))
    assert record["_key"] == seed.id.encode()
    canon = record["entity_counts"]
    assert canon.get("North Korea", 0) >= 10
    assert "Russia" in canon
    labels = {(e["canonical"], e["label"]) for e in record["entities"]}
    assert ("Russia", "GPE") in labels

    reasons = {letter["_key"]: letter["reason"] for letter in letters}
    for key, _, reason in INVALID:
        assert reasons.get(key) == reason, (key, letters)
    for letter in letters:
        jsonschema.validate({k: v for k, v in letter.items() if k != "_key"}, json_schema("deadletter"))
        assert letter["stage"] == "validate" and letter["error"]
    originals = {letter["_key"]: letter["original_b64"] for letter in letters}
    import base64

    assert base64.b64decode(originals[b"bad-utf8"]) == INVALID[0][1]


async def test_restart_does_not_reprocess_committed_records(cluster: Cluster) -> None:
    first = [
        Article.create(f"Parliament debated bill number {i} on farm subsidies in Seoul.", feed="t") for i in range(5)
    ]
    worker = cluster.worker()
    await cluster.produce([(a.id.encode(), a.to_bytes()) for a in first])
    await cluster.consume("news.enriched", lambda rs: {a.id for a in first} <= set(by_id(rs)))
    assert worker.stop() == 0, worker.log()[-3000:]
    assert "Traceback" not in worker.log(), worker.log()[-3000:]

    second = [Article.create(f"The ministry published report number {i} on rice prices.", feed="t") for i in range(3)]
    worker = cluster.worker()
    await cluster.produce([(a.id.encode(), a.to_bytes()) for a in second])
    everything = {a.id for a in first + second}
    enriched = await cluster.consume("news.enriched", lambda rs: everything <= set(by_id(rs)))
    counts = Counter(r["id"] for r in enriched)
    assert everything <= set(counts), worker.log()[-3000:]
    assert all(counts[i] == 1 for i in everything), counts
