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
    # the worker's stances come from the learned polarity (docs/ARCHITECTURE.md, "The seed article")
    nebenzia = [s for s in record["stances"] if s["speaker_canonical"] == "Vasily Nebenzia"]
    assert {s["target"]: s["stance"] for s in nebenzia}.get("sanctions") == "against", record["stances"]

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


async def test_bad_inputs_have_defined_outcomes(cluster: Cluster) -> None:
    """A 5 MB article, control characters, non-English text and empty text, all in one stream."""
    sentence = "North Korea fired a ballistic missile toward the Sea of Japan on Monday, Seoul said. "
    huge = Article.create(sentence * (5_000_000 // len(sentence)), feed="bad", url="https://example.org/huge")
    control = Article.create("Pyong\x00yang\x1b said on\x07 Friday that talks with Seoul would resume.", feed="bad")
    german = Article.create(
        "Die Regierung in Berlin hat am Montag einen neuen Haushalt vorgelegt. Die Opposition kritisierte "
        "die geplanten Kürzungen bei der Bildung und forderte mehr Geld für Schulen und Hochschulen.",
        feed="bad",
    )
    empty = Article.create("placeholder", feed="bad")
    empty_raw = empty.to_bytes().replace(b'"placeholder"', b'"  "')
    worker = cluster.worker(WIREWATCH_MAX_ARTICLE_BYTES="100000")
    await cluster.produce(
        [(a.id.encode(), a.to_bytes()) for a in (huge, control, german)] + [(empty.id.encode(), empty_raw)]
    )
    wanted = {huge.id, control.id, german.id}
    enriched = by_id(await cluster.consume("news.enriched", lambda rs: wanted <= set(by_id(rs))))
    assert wanted <= set(enriched), worker.log()[-3000:]

    big = enriched[huge.id]
    assert big["meta"]["truncated"] is True and big["meta"]["original_text_bytes"] >= 4_900_000
    assert len(big["text"].encode()) <= 100_000
    assert big["entity_counts"].get("North Korea", 0) > 100  # the kept part was analysed

    clean = enriched[control.id]
    assert "\x00" not in clean["text"] and "\x1b" not in clean["text"]
    assert "North Korea" in clean["entity_counts"]

    foreign = enriched[german.id]
    assert foreign["processing"]["skipped"] == "unsupported_language"
    assert foreign["entities"] == [] and foreign["signals"] == []

    letters = await cluster.consume("news.deadletter", lambda rs: any(r["reason"] == "empty_text" for r in rs))
    assert any(r["reason"] == "empty_text" and r["article_id"] == empty.id for r in letters), letters
