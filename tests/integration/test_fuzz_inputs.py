"""Fuzzed input at each of wirewatch's doors, against one real worker per test: ``POST /api/ingest`` bodies,
RSS/Atom documents polled by the real rss feed from a loopback site, and ``wirewatch ingest`` files.

Whatever comes in, the worker never dies, and the counts match: every record that reaches news.raw ends as
exactly one enriched record or one dead letter with a reason (and what the door refuses is answered with
a reason: a per-item result of the push, a failed poll of the feed). Records on news.raw itself are fuzzed
in test_poison_records.py. Fixed seed and example counts (hypothesis ``@seed``, no database)."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import orjson
import pytest
from aiohttp import web
from hypothesis import HealthCheck, Phase, event, example, given, seed, settings
from hypothesis import strategies as st

from tests.local_http import serve_locally
from wirewatch.streams.feeds.runner import CallbackProducer, runner_for
from wirewatch.streams.records import article_id
from wirewatch.streams.settings import Settings
from wirewatch.streams.validation import InvalidRecord, check_depth

from .conftest import Cluster
from .test_poison_records import JSON, ODD_VALUES, SENTENCES, Outcomes, crashes, produce

pytestmark = pytest.mark.integration

SEED = 20261206
FUZZ = settings(
    max_examples=10,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # each example runs real worker batches: no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
RECORD_LIMIT = 131_072


def worker_of(cluster: Cluster) -> Any:
    if not cluster.workers:
        cluster.worker(WIREWATCH_MAX_RECORD_BYTES=str(RECORD_LIMIT), WIREWATCH_MAX_ARTICLE_BYTES="16384")
    return cluster.workers[0]


class Ledger:
    """What reached news.raw so far in this test, and a check that the outputs match it one for one."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.ids: Counter[str] = Counter()  # article ids produced (with multiplicity)
        self.raw: Counter[bytes] = Counter()  # records produced without an id (they must be dead letters)

    async def settle(self, timeout: float = 120.0) -> Outcomes:
        """Wait until outputs stand for every input, then check they match one for one: as many outputs as
        inputs, enriched records only for articles that came in (as often as they came), a reason on every
        dead letter, and a dead letter for every record that was not an article."""
        outcomes = Outcomes(self.cluster)
        wanted = sum(self.ids.values()) + sum(self.raw.values())
        await outcomes.read_until(lambda o: len(o.enriched) + len(o.letters) >= wanted, timeout)
        # An output too many would come now: 1 s is ten of the worker's batch windows. The ledger counts
        # every example of the test, so one that came later still fails the next example's equality below
        # (3 s per example before: the whole test's wait now holds all but the last example to that).
        await outcomes.read_until(lambda o: len(o.enriched) + len(o.letters) > wanted, 1.0)
        worker = self.cluster.workers[0]
        assert worker.process is not None and worker.process.poll() is None, worker.log()[-4000:]
        assert not crashes(worker.log())
        assert len(outcomes.enriched) + len(outcomes.letters) == wanted, (wanted, worker.log()[-3000:])
        enriched = Counter(r["id"] for r in outcomes.enriched)
        assert all(n <= self.ids[i] for i, n in enriched.items()), (enriched, self.ids)
        assert all(d["reason"] and d["stage"] for d in outcomes.letters)
        originals = Counter(base64.b64decode(d["original_b64"]) for d in outcomes.letters)
        assert all(originals[raw] >= n for raw, n in self.raw.items()), (self.raw, originals)
        return outcomes


def article(draw: st.DrawFn, tag: str) -> dict[str, Any]:
    item: dict[str, Any] = {"text": " ".join(draw(st.lists(SENTENCES, min_size=1, max_size=3))) + f" ({tag})"}
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(ODD_VALUES)))
        item[name] = draw(ODD_VALUES[name])
    return item


# ---- POST /api/ingest ---------------------------------------------------------------------------------------
@st.composite
def push_body(draw: st.DrawFn, tag: str) -> tuple[bytes, str]:
    """A body (one object, an array, JSONL, or bytes) and its Content-Type."""
    items: list[Any] = [
        article(draw, f"{tag}-{i}") if draw(st.booleans()) else draw(JSON) for i in range(draw(st.integers(1, 6)))
    ]
    shape = draw(st.sampled_from(["object", "array", "jsonl", "bytes", "deep"]))
    if shape == "object":
        return orjson.dumps(items[0]), "application/json"
    if shape == "array":
        return orjson.dumps(items), "application/json"
    if shape == "deep":
        return b'[{"text": "Seoul said so."}, ' + b"[" * 100 + b"]" * 100 + b"]", "application/json"
    if shape == "bytes":
        return draw(st.binary(max_size=200)), draw(st.sampled_from(["application/json", "application/x-ndjson"]))
    lines = [
        orjson.dumps(i) if draw(st.booleans()) else draw(st.binary(max_size=40)).replace(b"\n", b"") for i in items
    ]
    return b"\n".join(lines), "application/x-ndjson"


@FUZZ
@seed(SEED)
@given(data=st.data())
def test_fuzzed_push_bodies_are_answered_and_each_accepted_item_ends_once(
    cluster: Cluster, data: st.DataObject
) -> None:
    worker = worker_of(cluster)
    ledger: Ledger = getattr(cluster, "ledger", None) or Ledger(cluster)
    cluster.ledger = ledger  # type: ignore[attr-defined]
    body, content_type = data.draw(push_body(f"push{sum(ledger.ids.values())}"))
    url = f"http://127.0.0.1:{worker.env['WIREWATCH_WEB_PORT']}/api/ingest"

    async def scenario() -> None:
        await cluster.create_topics()
        deadline = time.monotonic() + 120
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.post(url, data=body, headers={"Content-Type": content_type}) as response:
                        if response.status != 404:  # the route exists once the web server is up
                            status, answer = response.status, await response.json()
                            break
                except aiohttp.ClientConnectionError:
                    pass
                assert time.monotonic() < deadline, worker.log()[-3000:]
                await asyncio.sleep(0.3)
        assert status in (200, 400), (status, answer)
        results = answer["results"]
        assert answer["accepted"] + answer["rejected"] == len(results)
        assert (status == 200) == (answer["accepted"] > 0)
        event(f"{answer['accepted']} accepted, {answer['rejected']} rejected")
        for result in results:
            if result["status"] == "accepted":
                ledger.ids[result["id"]] += 1
            else:
                assert result["reason"] and result["error"], result
        if not results:
            assert answer["error"]
        await ledger.settle()

    asyncio.run(scenario())


# ---- RSS / Atom documents ----------------------------------------------------------------------------------
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40) | SENTENCES


@st.composite
def feed_document(draw: st.DrawFn, base: str) -> bytes:
    """An RSS 2.0 or Atom document with odd entries (markup, control characters, odd links and dates), in
    some encoding, sometimes cut short."""
    atom = draw(st.booleans())
    entries = []
    for i in range(draw(st.integers(1, 5))):
        title = escape(draw(TEXT))
        body = escape(draw(st.sampled_from(["", "<p>{}</p>", "{}", "<![CDATA[{}]]>"])).format(draw(TEXT)))
        link = escape(draw(st.sampled_from([f"{base}/a/{i}", "", "javascript:alert(1)", "http://[", "/rel/x"])))
        date = draw(st.sampled_from(["Mon, 02 Jun 2026 08:00:00 GMT", "yesterday", "", "2026-13-45T99:00:00Z"]))
        if atom:
            entries.append(
                f"<entry><title>{title}</title><link href='{link}'/><id>e{i}-{link}</id>"
                f"<updated>{date}</updated><summary type='html'>{body}</summary></entry>"
            )
        else:
            entries.append(
                f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate>"
                f"<description>{body}</description></item>"
            )
    encoding = draw(st.sampled_from(["utf-8", "iso-8859-1", "windows-1251", "utf-16"]))
    if atom:
        text = f"<feed xmlns='http://www.w3.org/2005/Atom'><title>Fuzz</title>{''.join(entries)}</feed>"
    else:
        text = f"<rss version='2.0'><channel><title>Fuzz</title>{''.join(entries)}</channel></rss>"
    document = f"<?xml version='1.0' encoding='{encoding}'?>{text}".encode(encoding, errors="xmlcharrefreplace")
    if draw(st.integers(0, 4)) == 0:
        document = document[: draw(st.integers(0, len(document)))]  # cut short
    return document


@FUZZ
@seed(SEED)
@given(data=st.data())
def test_fuzzed_feed_documents_each_entry_ends_once(cluster: Cluster, data: st.DataObject, tmp_path: Path) -> None:
    worker_of(cluster)
    ledger: Ledger = getattr(cluster, "ledger", None) or Ledger(cluster)
    cluster.ledger = ledger  # type: ignore[attr-defined]
    example = sum(ledger.ids.values()) + sum(ledger.raw.values()) + len(list(tmp_path.glob("doc*")))
    (tmp_path / f"doc{example}").mkdir()

    async def scenario() -> None:
        documents: list[bytes] = []

        async def serve(request: web.Request) -> web.Response:
            return web.Response(body=documents[0], content_type="application/xml")

        app = web.Application()
        app.router.add_get("/feed.xml", serve)
        async with serve_locally(app) as base:
            documents.append(data.draw(feed_document(base)))
            config = tmp_path / f"doc{example}" / "feeds.toml"
            config.write_text(f'[[feed]]\nid = "fuzz{example}"\ntype = "rss"\nurl = "{base}/feed.xml"\n')
            produced: list[tuple[bytes | None, bytes]] = []
            settings_ = Settings(data_dir=str(tmp_path / f"doc{example}"))
            runner = runner_for(settings_, config, CallbackProducer(lambda k, v: produced.append((k, v))))
            try:
                results = await runner.run_once()
            finally:
                await runner.aclose()
                runner.context.state.close()
        result = results[f"fuzz{example}"]
        health = runner.health()[f"fuzz{example}"]
        if result is None:  # a failed poll: counted, with its reason, and nothing produced
            assert health["errors"] == 1 and health["last_error"] and produced == []
            event("failed poll")
            return
        event(f"{len(produced)} entries produced")
        assert result.new + result.invalid == len(produced)
        sent = await produce(cluster, [(k or b"", v, None) for k, v in produced])
        for (key, value), s in zip(produced, sent, strict=True):
            if key:
                ledger.ids[orjson.loads(value)["id"]] += 1
            else:
                ledger.raw[value] += 1
            assert s.offset >= 0
        await ledger.settle()

    asyncio.run(scenario())


def id_of(fields: dict[str, Any]) -> str | None:
    """The id `wirewatch ingest` gives a line without one (None: it sends the line as it is)."""
    try:
        return article_id(fields.get("url"), fields.get("title"), fields["text"])
    except (TypeError, ValueError, AttributeError):
        return None


def depth_ok(value: Any) -> bool:
    try:
        check_depth(value)
    except InvalidRecord:
        return False
    return True


# ---- wirewatch ingest ---------------------------------------------------------------------------------------
DEEP_LINE = b'{"text": "Seoul said so.", "meta": ' + b"[" * 300 + b"]" * 300 + b"}"


@st.composite
def ingest_file(draw: st.DrawFn) -> list[bytes]:
    tag = draw(st.uuids()).hex[:8]
    lines: list[bytes] = []
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["article", "article", "json", "bytes", "deep", "unicode"]))
        if kind == "article":
            lines.append(orjson.dumps(article(draw, f"{tag}-{i}")))
        elif kind == "json":
            lines.append(orjson.dumps(draw(JSON)))
        elif kind == "deep":
            lines.append(DEEP_LINE)
        elif kind == "unicode":  # line and paragraph separators inside one JSON string stay one record
            lines.append(orjson.dumps({"text": f"Tokyo\u2028said\u0085so\r ({tag}-{i})."}))
        else:
            lines.append(draw(st.binary(min_size=1, max_size=60)).replace(b"\n", b" "))
    return lines


@FUZZ
@seed(SEED)
@given(lines=ingest_file())
@example(lines=[DEEP_LINE, b'{"text": "Seoul said so on Friday."}'])  # crashed `wirewatch ingest` (too deep)
@example(lines=[b'{"text": "Tokyo said so.", "title": [{}]}', b'{"text": "x", "url": "http://["}'])  # crashed it too
def test_fuzzed_ingest_lines_each_end_once(cluster: Cluster, lines: list[bytes], tmp_path: Path) -> None:
    worker = worker_of(cluster)
    ledger: Ledger = getattr(cluster, "ledger", None) or Ledger(cluster)
    cluster.ledger = ledger  # type: ignore[attr-defined]
    path = tmp_path / f"ingest{sum(ledger.ids.values()) + sum(ledger.raw.values())}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    env = dict(worker.env)
    asyncio.run(cluster.create_topics())
    done = subprocess.run(
        [sys.executable, "-m", "wirewatch.streams.cli", "ingest", str(path)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    produced = [line.strip() for line in lines if line.strip()]
    assert f"ingested {len(produced)} record(s)".encode() in done.stdout, done.stdout
    for line in produced:
        try:
            fields = orjson.loads(line)
        except orjson.JSONDecodeError:
            fields = None
        if (
            isinstance(fields, dict)
            and isinstance(fields.get("text"), str)
            and (fields.get("id") or id_of(fields))
            and depth_ok(fields)
        ):
            ledger.ids[str(fields.get("id") or id_of(fields))] += 1
        else:
            ledger.raw[line] += 1
    asyncio.run(ledger.settle())
