"""Poison records on ``news.raw`` against a real worker: each ends as exactly one dead letter with its reason
(or one enriched record), the rest of its batch is enriched, the agent lives on, and the committed offsets
never pass a record that has neither. Also: a stuck worker stops within WIREWATCH_SHUTDOWN_TIMEOUT."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from wirewatch.streams.records import Article

from .conftest import PARTITIONS, SHORT_SESSION, Cluster
from .test_batching import analysis_child

pytestmark = pytest.mark.integration


@dataclass
class Sent:
    """One record produced to news.raw and where it landed."""

    key: bytes
    value: bytes | None
    partition: int
    offset: int
    article_id: str | None = None  # the id its enriched record has, when it is an article


async def produce(cluster: Cluster, records: list[tuple[bytes, bytes | None, int | None]]) -> list[Sent]:
    """Produce (key, value, partition) records in one go; where each landed, from the broker's acks."""
    await cluster.create_topics()
    producer = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap, acks="all", max_request_size=12_000_000)
    await producer.start()
    try:
        topic = cluster.topic("news.raw")
        futures = [await producer.send(topic, key=k, value=v, partition=p) for k, v, p in records]
        acks = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [Sent(k, v, ack.partition, ack.offset) for (k, v, _), ack in zip(records, acks, strict=True)]


class Outcomes:
    """news.enriched and news.deadletter as one worker wrote them, read from the beginning."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.enriched: list[dict[str, Any]] = []
        self.letters: list[dict[str, Any]] = []

    async def read_until(self, done: Callable[[Outcomes], bool], timeout: float = 120.0) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.cluster.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_bytes=20_000_000,
            max_partition_fetch_bytes=20_000_000,
        )
        await consumer.start()
        try:
            topics = {
                self.cluster.topic("news.enriched"): self.enriched,
                self.cluster.topic("news.deadletter"): self.letters,
            }
            consumer.assign([TopicPartition(t, p) for t in topics for p in range(PARTITIONS)])
            await consumer.seek_to_beginning()
            for kept in topics.values():
                kept.clear()
            deadline = time.monotonic() + timeout
            while not done(self) and time.monotonic() < deadline:
                for worker in self.cluster.workers:
                    if worker.process is not None and worker.process.poll() is not None:
                        pytest.fail(f"worker exited with {worker.process.returncode}:\n{worker.log()[-4000:]}")
                for tp, messages in (await consumer.getmany(timeout_ms=300)).items():
                    topics[tp.topic].extend(
                        orjson.loads(m.value) | {"_key": m.key, "_bytes": len(m.value)} for m in messages
                    )
        finally:
            await consumer.stop()

    def letters_at(self, sent: Sent) -> list[dict[str, Any]]:
        return [d for d in self.letters if (d["partition"], d["offset"]) == (sent.partition, sent.offset)]

    def outcomes_of(self, sent: Sent) -> int:
        """How many outputs stand for ``sent``: its dead letters plus its enriched records."""
        enriched = [r for r in self.enriched if sent.article_id is not None and r["id"] == sent.article_id]
        return len(self.letters_at(sent)) + len(enriched)


async def committed(cluster: Cluster) -> dict[int, int]:
    """The worker group's committed offset per news.raw partition (0 where none)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=cluster.bootstrap, group_id=cluster.app_id, enable_auto_commit=False)
    await consumer.start()
    try:
        topic = cluster.topic("news.raw")
        return {p: (await consumer.committed(TopicPartition(topic, p))) or 0 for p in range(PARTITIONS)}
    finally:
        await consumer.stop()


async def assert_offsets_settle(cluster: Cluster, sent: list[Sent], outcomes: Outcomes) -> None:
    """Committed offsets reach the end of each partition, and never stand past a record without outcome."""
    ends = {p: max([s.offset + 1 for s in sent if s.partition == p], default=0) for p in range(PARTITIONS)}
    deadline = time.monotonic() + 60
    while True:
        offsets = await committed(cluster)
        for s in sent:
            if s.offset < offsets[s.partition]:
                assert outcomes.outcomes_of(s) == 1, (s.key, s.partition, s.offset, offsets)
        if all(offsets[p] >= ends[p] for p in ends) or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert all(offsets[p] >= ends[p] for p in ends), (offsets, ends)


def crashes(log: str) -> list[str]:
    """Agent crashes in a worker log (an agent cancelled by a rebalance or a stop is logged as a crash too)."""
    return [line for line in log.splitlines() if "Crashed reason=" in line and "CancelledError" not in line]


def canary(tag: str) -> Article:
    return Article.create(f"Officials in Seoul said on Monday that trade report {tag} was published.", feed="canary")


def nested_meta(levels: int) -> bytes:
    """An article whose meta nests ``levels`` objects, built as bytes (orjson cannot encode > 254)."""
    head = b'{"text": "Tokyo said on Friday that the talks went well.", "meta": '
    return head + b'{"a": ' * levels + b"1" + b"}" * levels + b"}"


async def test_poison_records_are_dead_lettered_and_the_rest_of_their_batches_enriched(cluster: Cluster) -> None:
    """Issue 20: a 300-level meta, a 7 MB invalid record and one over 8 MiB, between canaries on both
    partitions. Before the fix the agent crashed (orjson's recursion limit) or its dead letter was too
    large for the producer, and canaries of the same batches were lost."""
    limit = 8 * 1024 * 1024
    poison = [
        (b"deep", nested_meta(300), "too_deep"),
        (b"big-invalid", b"\xff" + b"x" * 7_340_032, "not_utf8"),
        (b"too-large", b'{"text": "' + b"x" * limit + b'"}', "too_large"),
    ]
    canaries = [canary(f"c{i}") for i in range(8)]
    records: list[tuple[bytes, bytes | None, int | None]] = []
    for i, (key, value, _) in enumerate(poison):  # poison on partition 0, canaries around it on both
        records += [(canaries[2 * i].id.encode(), canaries[2 * i].to_bytes(), 0), (key, value, 0)]
        records.append((canaries[2 * i + 1].id.encode(), canaries[2 * i + 1].to_bytes(), 1))
    records += [(c.id.encode(), c.to_bytes(), p) for p, c in enumerate(canaries[6:])]
    sent = await produce(cluster, records)  # before the worker starts: it finds them all in its first batches
    ids = {c.id.encode(): c.id for c in canaries}
    for s in sent:
        s.article_id = ids.get(s.key)
    worker = cluster.worker(WIREWATCH_BATCH_SIZE="4")
    outcomes = Outcomes(cluster)
    await outcomes.read_until(lambda o: all(o.outcomes_of(s) for s in sent))

    log = worker.log()
    assert not crashes(log) and "MessageSizeTooLarge" not in log, log[-4000:]
    assert [s.key for s in sent if outcomes.outcomes_of(s) != 1] == [], log[-4000:]
    by_key = {d["_key"]: d for d in outcomes.letters}
    for key, value, reason in poison:
        letter = by_key[key]
        assert (letter["reason"], letter["stage"]) == (reason, "validate"), letter["error"]
        assert letter["original_bytes"] == len(value)
        original = base64.b64decode(letter["original_b64"])
        assert value.startswith(original)
        assert letter["original_truncated"] is (len(original) < len(value))
    assert by_key[b"big-invalid"]["original_truncated"] and by_key[b"too-large"]["original_truncated"]
    assert not by_key[b"deep"]["original_truncated"]  # 2 KB: kept whole

    await assert_offsets_settle(cluster, sent, outcomes)
    late = canary("after")  # the agent is alive: a record produced afterwards is enriched
    await produce(cluster, [(late.id.encode(), late.to_bytes(), 0)])
    await outcomes.read_until(lambda o: any(r["id"] == late.id for r in o.enriched), timeout=60)
    assert any(r["id"] == late.id for r in outcomes.enriched), worker.log()[-3000:]


async def test_a_stuck_worker_stops_within_the_shutdown_timeout(cluster: Cluster) -> None:
    """Issue 20 defect 4: a worker whose in-flight batch never completes (here its model process is
    stopped) used to wait on the unacknowledged events forever after SIGTERM. Now it stops within
    WIREWATCH_SHUTDOWN_TIMEOUT, says why, and a restarted worker processes the records."""
    worker = cluster.worker(WIREWATCH_NLP_PROCESS="1", WIREWATCH_SHUTDOWN_TIMEOUT="5", **SHORT_SESSION)
    first = canary("warm-up")
    await cluster.produce([(first.id.encode(), first.to_bytes())])
    await cluster.consume("news.enriched", lambda rs: any(r["id"] == first.id for r in rs))
    assert worker.pid is not None
    child = analysis_child(worker.pid)
    assert child is not None
    os.kill(child, signal.SIGSTOP)  # the model hangs: the next batch is never analysed
    try:
        stuck = [canary(f"stuck{i}") for i in range(4)]
        await cluster.produce([(a.id.encode(), a.to_bytes()) for a in stuck])
        await asyncio.sleep(3)  # taken by the agent, sitting in the analysis
        started = time.monotonic()
        worker.stop(timeout=40)  # raises TimeoutError if it does not stop
        took = time.monotonic() - started
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    log = worker.log()
    assert took < 5 + 15, (took, log[-3000:])
    assert "WIREWATCH_SHUTDOWN_TIMEOUT" in log and "not acknowledged" in log, log[-3000:]
    cluster.worker(**SHORT_SESSION)
    wanted = {a.id for a in stuck}
    enriched = await cluster.consume("news.enriched", lambda rs: wanted <= {r["id"] for r in rs})
    assert wanted <= {r["id"] for r in enriched}


# ---- fuzz ------------------------------------------------------------------------------------------------
FUZZ_RECORD_LIMIT = 131_072  # a small WIREWATCH_MAX_RECORD_BYTES keeps records around and over it cheap
FUZZ_ARTICLE_LIMIT = 16_384
SENTENCES = st.sampled_from(
    [
        "North Korea fired a ballistic missile toward the Sea of Japan on Monday, Seoul said.",
        "The finance ministry in Tokyo published a report on rice prices.",
        "Die Regierung in Berlin hat am Montag einen neuen Haushalt vorgelegt.",
        "Russia urged all sides to return to diplomacy.",
        "Pyong\x00yang\x1b said on\x07 Friday that talks would resume.",
    ]
)
FIELDS = st.sampled_from(["text", "title", "url", "meta", "id", "schema", "published_at", "lang", "feed"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FIELDS, inner, max_size=4))
ODD_VALUES = {
    "url": st.sampled_from(["http://[", "https://e.org:99999/", "", "mailto:x", "https://example.org/a?utm_source=x"]),
    "published_at": st.sampled_from(["yesterday", "2026-01-01T00:00:00Z", "2026-13-45", ""]),
    "schema": st.sampled_from(["wirewatch.article/v1", "wirewatch.article/v9"]),
    "text": st.sampled_from(["", "   ", None]) | st.integers(),
    "meta": JSON,
    "title": JSON,
}


@st.composite
def fuzz_record(draw: st.DrawFn, index: int) -> tuple[bytes, str | None]:
    """A news.raw value and, when it is an object with a string id, that id (each record's is unique)."""
    kind = draw(st.sampled_from(["article", "article", "odd", "deep", "sized", "bytes", "json", "tombstone"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), None
    if kind == "json":
        return orjson.dumps(draw(JSON)), None
    if kind == "tombstone":
        return b"", None  # replaced by None (a tombstone) when produced
    uid = f"fuzz-{index}"
    article: dict[str, Any] = {"id": uid, "text": " ".join(draw(st.lists(SENTENCES, min_size=1, max_size=3)))}
    if kind == "odd":
        name = draw(st.sampled_from(sorted(ODD_VALUES)))
        article[name] = draw(ODD_VALUES[name])
    raw = orjson.dumps(article)
    if kind == "deep":  # around the depth limit and far beyond
        levels = draw(st.sampled_from([30, 62, 63, 64, 65, 254, 300, 1100]))
        raw = raw[:-1] + b', "meta": {"n": ' + b"[" * levels + b"]" * levels + b"}}"
    if kind == "sized":  # around and over the record limit, padded in meta (or made invalid UTF-8)
        target = FUZZ_RECORD_LIMIT + draw(st.sampled_from([-2048, -64, 0, 1, 4096, FUZZ_RECORD_LIMIT]))
        pad = max(0, target - len(raw) - len(b', "meta": {"pad": ""}'))
        raw = raw[:-1] + b', "meta": {"pad": "' + b"p" * pad + b'"}}'
        if draw(st.booleans()):
            raw = b"\xff" + raw[1:]
    return raw, uid


@settings(
    max_examples=6,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],  # each example runs a real worker batch: no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_fuzzed_records_each_end_as_exactly_one_output(cluster: Cluster, data: st.DataObject) -> None:
    """Records of every shape (bytes, odd JSON, deep nesting, sizes around and over the limit), 40 per
    example (6 examples), sent in one go to one real worker: exactly one output each, the agent never stops, and the
    committed offsets never pass a record that has neither."""
    if not cluster.workers:
        cluster.worker(
            WIREWATCH_MAX_RECORD_BYTES=str(FUZZ_RECORD_LIMIT),
            WIREWATCH_MAX_ARTICLE_BYTES=str(FUZZ_ARTICLE_LIMIT),
            WIREWATCH_BATCH_SIZE="8",
        )
    base = len(getattr(cluster, "fuzzed", []))
    generated = [data.draw(fuzz_record(base + i)) for i in range(40)]
    records = [(f"k{base + i}".encode(), raw or None, i % PARTITIONS) for i, (raw, _) in enumerate(generated)]

    async def scenario() -> None:
        sent = await produce(cluster, records)
        for s, (_, uid) in zip(sent, generated, strict=True):
            s.article_id = uid
        cluster.fuzzed = [*getattr(cluster, "fuzzed", []), *sent]  # type: ignore[attr-defined]
        everything: list[Sent] = cluster.fuzzed  # type: ignore[attr-defined]
        outcomes = Outcomes(cluster)
        await outcomes.read_until(lambda o: all(o.outcomes_of(s) for s in everything))
        wrong = {s.key: outcomes.outcomes_of(s) for s in everything if outcomes.outcomes_of(s) != 1}
        assert not wrong, (wrong, cluster.workers[0].log()[-4000:])
        known = {s.article_id for s in everything}
        assert all(r["id"] in known for r in outcomes.enriched)  # nothing enriched that was not sent
        for letter in outcomes.letters:
            assert len(letter["_key"] or b"") + letter["_bytes"] <= FUZZ_RECORD_LIMIT
        await assert_offsets_settle(cluster, everything, outcomes)
        assert not crashes(cluster.workers[0].log())

    asyncio.run(scenario())
