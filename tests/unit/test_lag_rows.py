"""Lag arithmetic (no broker): committed vs end offsets per group and partition, and the CLI output."""

from __future__ import annotations

import argparse
import io

import orjson

from wirewatch.streams.cli.lag import add_parser as add_lag_parser
from wirewatch.streams.cli.lag import print_table
from wirewatch.streams.lag import LagRow, LagSnapshot, lag_rows, parse_groups


def test_lag_is_end_minus_committed() -> None:
    rows = lag_rows("g", {("t", 0): 4, ("t", 1): 9}, {("t", 0): 10, ("t", 1): 9})
    assert [(r.partition, r.committed, r.end, r.lag) for r in rows] == [(0, 4, 10, 6), (1, 9, 9, 0)]


def test_uncommitted_partitions_only_when_expected_and_counted_from_the_first_offset() -> None:
    committed = {("t", 0): 2, ("t", 1): -1}  # -1: the broker's "no offset" for a named partition
    ends = {("t", 0): 5, ("t", 1): 8, ("u", 0): 3}
    starts = {("t", 1): 6}
    assert [(r.topic, r.partition) for r in lag_rows("g", committed, ends, starts)] == [("t", 0)]
    rows = lag_rows("g", committed, ends, starts, expected=[("t", 1), ("u", 0)])
    by_tp = {(r.topic, r.partition): r for r in rows}
    assert by_tp[("t", 1)].committed is None and by_tp[("t", 1)].lag == 2  # 8 - first offset 6
    assert by_tp[("u", 0)].lag == 3


def test_a_commit_below_the_retained_log_counts_from_the_first_offset() -> None:
    assert LagRow("g", "t", 0, committed=1, end=10, start=7).lag == 3
    assert LagRow("g", "t", 0, committed=12, end=10).lag == 0  # never negative


def test_partitions_of_deleted_topics_are_skipped() -> None:
    assert lag_rows("g", {("gone", 0): 3}, {}) == []


def test_snapshot_totals_and_retained() -> None:
    snap = LagSnapshot(rows=[], ends={("a", 0): 5, ("a", 1): 7, ("b", 0): 2}, starts={("a", 1): 3}, taken_at=0.0)
    assert snap.topic_totals() == {"a": 12, "b": 2}
    assert snap.retained("a") == 9


def test_parse_groups() -> None:
    assert parse_groups("siem, archiver  kafka-connect") == ["siem", "archiver", "kafka-connect"]
    assert parse_groups("") == []


def test_row_json_includes_lag() -> None:
    row = LagRow("g", "t", 2, committed=None, end=4)
    assert orjson.loads(orjson.dumps(row.to_dict())) == {
        "group": "g",
        "topic": "t",
        "partition": 2,
        "committed": None,
        "end": 4,
        "start": 0,
        "lag": 4,
    }


def test_table_shows_every_row() -> None:
    out = io.StringIO()
    print_table([LagRow("wirewatch", "news.raw", 0, 3, 10), LagRow("siem", "news.alerts", 1, None, 2)], out)
    text = out.getvalue()
    assert "news.raw" in text and "siem" in text and "7" in text


def test_parser() -> None:
    parser = argparse.ArgumentParser()
    add_lag_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["lag", "--group", "a,b", "--json", "--nonzero"])
    assert args.group == ["a,b"] and args.json and args.nonzero and callable(args.func)
