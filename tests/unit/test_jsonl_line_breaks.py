"""JSON Lines records end at b"\\n" only: `wirewatch ingest` and the jsonl feed keep a record whole when it
holds U+2028, U+0085 (legal unescaped in JSON strings) or a lone CR (legal JSON whitespace)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import orjson
import pytest

from wirewatch.streams.cli import build_parser
from wirewatch.streams.cli.analysis import analyze_inputs
from wirewatch.streams.cli.ingest import ingest_records
from wirewatch.streams.feeds import FeedContext, FeedState, build_feed
from wirewatch.streams.feeds.config import FeedConfig
from wirewatch.streams.feeds.push import split_items
from wirewatch.streams.feeds.runner import CallbackProducer, FeedRunner

# Written for this test: texts with the line breaks str.splitlines breaks at, raw inside the JSON strings.
SEPARATORS = "The council met at nine.\u2028The vote was close.\u0085Results follow on Monday."
TITLE_WITH_BREAK = "Ferry\u2028timetable"
LONE_CR_RECORD = b'{"text": "The bridge reopened on Wednesday.",\r"title": "Bridge"}'


def unicode_breaks_file() -> bytes:
    record = orjson.dumps({"text": SEPARATORS, "title": TITLE_WITH_BREAK})
    assert "\u2028".encode() in record and "\u0085".encode() in record  # raw in the line, not escaped
    return record + b"\n" + orjson.dumps({"text": "A second, ordinary line."}) + b"\r\n"


def ingested(path: str) -> list[tuple[bytes | None, bytes, str | None]]:
    return list(ingest_records(build_parser().parse_args(["ingest", path])))


def test_ingest_keeps_a_record_with_unicode_line_separators_whole(tmp_path: Path) -> None:
    """Regression: str.splitlines made three `not_json` dead letters of the first line."""
    path = tmp_path / "articles.jsonl"
    path.write_bytes(unicode_breaks_file())
    records = ingested(str(path))
    assert [problem for _, _, problem in records] == [None, None]
    first, second = (orjson.loads(value) for _, value, _ in records)
    assert first["text"] == SEPARATORS and first["title"] == TITLE_WITH_BREAK
    assert second["text"] == "A second, ordinary line."  # the CR of CRLF is not part of the record
    assert all(key == orjson.loads(value)["id"].encode() for key, value, _ in records)


def test_ingest_reads_the_file_as_post_api_ingest_does(tmp_path: Path) -> None:
    data = unicode_breaks_file()
    path = tmp_path / "articles.jsonl"
    path.write_bytes(data)
    from_cli = [orjson.loads(value)["text"] for _, value, _ in ingested(str(path))]
    from_push = [orjson.loads(item)["text"] for item in split_items(data, "application/x-ndjson")]
    assert from_cli == from_push


def test_ingest_keeps_a_record_with_a_lone_cr_as_json_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    path.write_bytes(LONE_CR_RECORD + b"\n")
    [(_, value, problem)] = ingested(str(path))
    assert problem is None and orjson.loads(value)["title"] == "Bridge"


def test_ingest_from_stdin_splits_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(unicode_breaks_file()), encoding="utf-8"))
    records = ingested("-")
    assert [problem for _, _, problem in records] == [None, None]
    assert orjson.loads(records[0][1])["text"] == SEPARATORS


def test_ingest_still_sends_a_bad_line_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    path.write_bytes(b'{"text": "fine"}\n  {broken' + "\u2028".encode() + b"line  \n")
    records = ingested(str(path))
    assert records[0][2] is None
    key, value, problem = records[1]
    assert key is None and value == "{broken\u2028line".encode()
    assert problem is not None and problem.startswith(f"{path}:2: not JSON")


async def test_jsonl_feed_keeps_records_with_line_breaks_whole_and_follows_by_offset(tmp_path: Path) -> None:
    """The feed split bytes with bytes.splitlines, which breaks at a lone CR (JSON whitespace)."""
    path = tmp_path / "wire.jsonl"
    path.write_bytes(unicode_breaks_file() + LONE_CR_RECORD + b"\n")
    produced: list[bytes] = []
    context = FeedContext(state=FeedState(tmp_path / "state.sqlite"))
    feed = build_feed(FeedConfig("wire", "jsonl", {"path": str(path), "settle": 0.0}), context)
    runner = FeedRunner([feed], CallbackProducer(lambda key, value: produced.append(value)), context)
    result = (await runner.run_once())["wire"]
    assert result is not None and (result.new, result.invalid) == (3, 0)
    texts = [orjson.loads(v)["text"] for v in produced]
    # The feed validates as the worker does, which drops C1 controls such as U+0085 from the text.
    assert texts == [SEPARATORS.replace("\u0085", ""), "A second, ordinary line.", "The bridge reopened on Wednesday."]
    with path.open("ab") as handle:  # the next poll reads only what was appended
        handle.write(orjson.dumps({"text": "Appended later."}) + b"\n")
    result = (await runner.run_once())["wire"]
    assert result is not None and (result.new, result.invalid) == (1, 0)
    assert orjson.loads(produced[-1])["text"] == "Appended later."
    await runner.aclose()


def test_post_api_ingest_keeps_a_record_with_a_lone_cr_whole() -> None:
    """Regression: bytes.splitlines broke a JSONL record at a lone CR (JSON whitespace) in the push body."""
    body = LONE_CR_RECORD + b"\n" + orjson.dumps({"text": "A second, ordinary line."}) + b"\n"
    items = split_items(body, "application/x-ndjson")
    assert len(items) == 2 and orjson.loads(items[0])["title"] == "Bridge"


def test_analyze_reads_jsonl_with_unicode_line_separators_as_articles(tmp_path: Path) -> None:
    """Regression: str.splitlines cut the record at U+2028, so the file was analysed as one plain text."""
    path = tmp_path / "articles.jsonl"
    path.write_bytes(unicode_breaks_file())
    articles = analyze_inputs([str(path)], feed="cli")
    assert [a.text for a in articles] == [SEPARATORS, "A second, ordinary line."]


def test_ingest_sends_a_line_nested_too_deep_as_it_is(tmp_path: Path) -> None:
    """Found by the fuzz test of `wirewatch ingest` (tests/integration/test_fuzz_inputs.py): a line nested
    deeper than orjson writes (254 levels) crashed the command with "Recursion limit reached", and no line
    of the file was sent. It is sent as it is, for the worker to dead-letter as too_deep."""
    deep = b'{"text": "Seoul said so.", "meta": ' + b"[" * 300 + b"]" * 300 + b"}"
    path = tmp_path / "articles.jsonl"
    path.write_bytes(deep + b'\n{"text": "fine"}\n')
    records = ingested(str(path))
    key, value, problem = records[0]
    assert key is None and value == deep
    assert problem is not None and problem.startswith(f"{path}:1: ") and "nest" in problem
    assert records[1][2] is None


def test_ingest_sends_a_line_whose_id_cannot_be_made_as_it_is(tmp_path: Path) -> None:
    """Found by the same fuzz test: a line without an id whose title is not a string, or whose url cannot be
    parsed, crashed the command while it computed the id ("normalize() argument 2 must be str", "Invalid
    IPv6 URL"), and no line was sent. Sent as it is: the worker dead-letters it (wrong_type, bad_url)."""
    bad = [b'{"text": "Tokyo said so on Friday.", "title": [{}]}', b'{"text": "fine", "url": 7}']
    bad.append(b'{"text": "fine", "url": "http://["}')
    path = tmp_path / "articles.jsonl"
    path.write_bytes(b"\n".join(bad) + b'\n{"text": "fine"}\n')
    records = ingested(str(path))
    assert [(key, value) for key, value, _ in records[:3]] == [(None, line) for line in bad]
    assert all(problem and "no article id can be made" in problem for _, _, problem in records[:3])
    assert records[3][2] is None
