"""The address file a running worker leaves in the data dir for the other commands."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import orjson

from wirewatch.streams.broker import ADDRESS_FILE, record_address
from wirewatch.streams.settings import Settings


def _record_many(data_dir: str, times: int) -> None:
    for _ in range(times):
        record_address(Settings(data_dir=data_dir), "127.0.0.1:9092", embedded=False)


def test_workers_starting_together_on_one_data_dir_both_record(tmp_path: Path) -> None:
    """Regression: two workers sharing a data dir wrote the same temporary file; one renamed it away and
    the other died at start-up with FileNotFoundError."""
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_record_many, args=(str(tmp_path), 300)) for _ in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert [w.exitcode for w in writers] == [0, 0, 0]
    recorded = orjson.loads((tmp_path / ADDRESS_FILE).read_bytes())
    assert recorded["bootstrap"] == "127.0.0.1:9092"
    assert recorded["pid"] in {w.pid for w in writers}
    assert not list(tmp_path.glob("*.tmp"))
