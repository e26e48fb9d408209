"""JSONL feeds: a followed file, a drop folder; bad lines become raw records; restarts re-ingest nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import pytest

from wirewatch.streams.feeds import FeedContext, FeedState, RawRecord, build_feed
from wirewatch.streams.feeds.config import FeedConfig
from wirewatch.streams.feeds.jsonl import JsonlFeed, line_item
from wirewatch.streams.feeds.runner import CallbackProducer, FeedRunner
from wirewatch.streams.settings import Settings

GOOD = [
    {
        "url": "https://example.test/news/ferry",
        "title": "Ferry timetable changes",
        "text": "The ferry leaves at nine.",
    },
    {"title": "Market day moved", "text": "The Saturday market moves to Friday this week."},
]


def lines(*items: object) -> bytes:
    return b"".join((item if isinstance(item, bytes) else orjson.dumps(item)) + b"\n" for item in items)


def make_runner(options: dict, state: FeedState | None = None) -> tuple[FeedRunner, list[tuple]]:
    context = FeedContext(state=state or FeedState(":memory:"))
    feed = build_feed(FeedConfig("drop", "jsonl", {"settle": 0.0, **options}), context)
    produced: list[tuple] = []
    return FeedRunner([feed], CallbackProducer(lambda k, v: produced.append((k, v))), context), produced


def test_line_item_validates_like_the_worker() -> None:
    settings = Settings()
    article = line_item(orjson.dumps(GOOD[0]), "f:1", feed="drop", settings=settings)
    assert not isinstance(article, RawRecord)
    assert article.feed == "drop" and article.url == GOOD[0]["url"] and article.fetched_at
    kept = line_item(orjson.dumps({**GOOD[1], "feed": "wire"}), "f:2", feed="drop", settings=settings)
    assert not isinstance(kept, RawRecord) and kept.feed == "wire"
    bad = line_item(b'{"title": "no text"}', "f:3", feed="drop", settings=settings)
    assert isinstance(bad, RawRecord) and bad.problem.startswith("f:3: missing_text")
    assert bad.value == b'{"title": "no text"}'  # the original bytes, for the dead letter
    broken = line_item(b"{not json", "f:4", feed="drop", settings=settings)
    assert isinstance(broken, RawRecord) and "not_json" in broken.problem


async def test_followed_file_reads_new_lines_only_and_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl"
    path.write_bytes(lines(GOOD[0], b"{broken line", GOOD[1]))
    state_path = tmp_path / "state.sqlite"
    runner, produced = make_runner({"path": str(path)}, FeedState(state_path))
    result = (await runner.run_once())["drop"]
    assert result is not None and (result.new, result.invalid) == (2, 1)
    values = [orjson.loads(v) if v.startswith(b'{"') else v for _, v in produced]
    assert b"{broken line" in values and produced[1][0] is None  # bad line produced as is, no key
    assert {v["title"] for v in values if isinstance(v, dict)} == {
        "Ferry timetable changes",
        "Market day moved",
    }

    with path.open("ab") as handle:  # appended line, and a half-written one (no newline yet)
        handle.write(lines({"title": "Bus strike ends", "text": "Drivers return to work on Monday."}))
        handle.write(b'{"title": "partial", "te')
    os.utime(path, (time.time() + 5, time.time() + 5))  # "just written": not settled
    runner.feeds[0].settle = 60.0
    result = (await runner.run_once())["drop"]
    assert result is not None and result.new == 1 and result.fetched == 1
    runner.context.state.close()

    # A restarted runner with the same state continues after the last complete line.
    again, produced2 = make_runner({"path": str(path), "settle": 60.0}, FeedState(state_path))
    result = (await again.run_once())["drop"]
    assert result is not None and result.fetched == 0 and produced2 == []
    again.context.state.close()


async def test_drop_folder_moves_done_files_and_restarts_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(lines(GOOD[0]))
    (folder / "b.jsonl").write_bytes(lines(GOOD[1], {"text": ""}))
    (folder / "notes.txt").write_text("not picked up")
    state_path = tmp_path / "state.sqlite"
    runner, produced = make_runner({"path": str(folder)}, FeedState(state_path))
    result = (await runner.run_once())["drop"]
    assert result is not None and (result.new, result.invalid) == (2, 1)
    assert [k is None for k, _ in produced] == [False, False, True] and produced[2][1] == b'{"text":""}'
    assert sorted(p.name for p in (folder / "done").iterdir()) == ["a.jsonl", "b.jsonl"]
    assert sorted(p.name for p in folder.glob("*.jsonl")) == []
    assert (folder / "notes.txt").exists()
    runner.context.state.close()

    # The same story dropped again (a re-sent file) after a restart is a duplicate, not new.
    (folder / "c.jsonl").write_bytes(lines(GOOD[0], {"title": "Pier repainted", "text": "The pier is blue now."}))
    again, produced2 = make_runner({"path": str(folder)}, FeedState(state_path))
    result = (await again.run_once())["drop"]
    assert result is not None and (result.new, result.duplicates) == (1, 1)
    assert orjson.loads(produced2[0][1])["title"] == "Pier repainted"
    again.context.state.close()


async def test_drop_folder_can_remember_files_instead_of_moving_them(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(lines(GOOD[0]))
    runner, produced = make_runner({"path": str(folder), "move_done": False})
    await runner.run_once()
    await runner.run_once()
    assert (folder / "a.jsonl").exists() and not (folder / "done").exists()
    assert len(produced) == 1 and runner.feeds[0].health().fetched == 1  # not even re-read


async def test_unsettled_folder_files_wait(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(lines(GOOD[0]))
    runner, produced = make_runner({"path": str(folder), "settle": 30.0})
    await runner.run_once()
    assert produced == [] and (folder / "a.jsonl").exists()


async def test_missing_path_is_an_error(tmp_path: Path) -> None:
    runner, _ = make_runner({"path": str(tmp_path / "nowhere.jsonl")})
    assert (await runner.run_once())["drop"] is None
    assert "does not exist" in (runner.feeds[0].health().last_error or "")


def test_jsonl_requires_a_path() -> None:
    from wirewatch.streams.feeds import FeedConfigError

    with pytest.raises(FeedConfigError, match="feed 'j': option 'path' is required"):
        JsonlFeed("j", {})


async def test_bundled_demo_feed_replays_through_the_jsonl_feed() -> None:
    from importlib import resources

    path = resources.files("wirewatch.streams") / "data" / "demo_feed.jsonl"
    expected = [orjson.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    runner, produced = make_runner({"path": str(path)})
    result = (await runner.run_once())["drop"]
    assert result is not None and result.new == len(expected) and result.invalid == 0
    assert [orjson.loads(v)["title"] for _, v in produced] == [e["title"] for e in expected]
    assert {orjson.loads(v)["feed"] for _, v in produced} == {e.get("feed", "drop") for e in expected}


async def test_register_demo_replays_the_sample_inside_a_worker_task() -> None:
    import asyncio
    from types import SimpleNamespace

    from wirewatch.streams.feeds.runner import register_demo

    tasks: list = []
    sent: list[tuple[bytes | None, bytes]] = []

    async def send(key: bytes | None, value: bytes) -> asyncio.Future:
        sent.append((key, value))
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    pipeline = SimpleNamespace(
        settings=Settings(),
        app=SimpleNamespace(task=lambda fn: tasks.append(fn) or fn),
        raw=SimpleNamespace(send=send),
    )
    runner = register_demo(pipeline, pace=0.0, start_delay=0.0)
    assert len(tasks) == 1
    from importlib import resources

    path = resources.files("wirewatch.streams") / "data" / "demo_feed.jsonl"
    expected = len([line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()])
    task = asyncio.create_task(tasks[0]())
    for _ in range(200):
        if len(sent) >= expected:
            break
        await asyncio.sleep(0.01)
    runner.stop()
    await asyncio.wait_for(task, timeout=5)
    assert len(sent) == expected and all(k == orjson.loads(v)["id"].encode() for k, v in sent)
    assert runner.health()["demo"]["new"] == expected


def deep_line(levels: int, feed: bool) -> bytes:
    nested = b'{"a":' * levels + b"1" + b"}" * levels
    fields = b'"feed": "wire", ' if feed else b""
    return b'{"text": "The harbour reopened.", ' + fields + b'"meta": ' + nested + b"}"


@pytest.mark.parametrize("feed", [False, True])
def test_a_deeply_nested_line_is_an_invalid_item_not_a_broken_poll(feed: bool) -> None:
    """Regression: the line was written out again before validation (orjson: TypeError), so the poll failed."""
    raw = deep_line(300, feed)
    item = line_item(raw, "f:7", feed="drop", settings=Settings())
    assert isinstance(item, RawRecord) and item.problem.startswith("f:7: too_deep") and item.value == raw


def test_a_producers_unusable_id_is_refused_as_bad_id() -> None:
    for bad_id in ("x" * 257, "id\u202eevil", "line\nbreak"):
        item = line_item(orjson.dumps({**GOOD[0], "id": bad_id}), "f:8", feed="drop", settings=Settings())
        assert isinstance(item, RawRecord) and item.problem.startswith("f:8: bad_id"), bad_id
    kept = line_item(orjson.dumps({**GOOD[0], "id": "x" * 256}), "f:9", feed="drop", settings=Settings())
    assert not isinstance(kept, RawRecord) and kept.id == "x" * 256
