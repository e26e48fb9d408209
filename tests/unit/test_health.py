"""The stall detector of the watchdog (streams/health.py): pure, fed lag rows by hand."""

from __future__ import annotations

from wirewatch.streams.health import StallDetector
from wirewatch.streams.lag import LagRow

AGENTS = {"news.raw": "enrich", "findings": "incidents"}
OWNED = {("news.raw", 0), ("news.raw", 1), ("findings", 0)}


def row(topic: str, partition: int, committed: int | None, end: int) -> LagRow:
    return LagRow(group="wirewatch", topic=topic, partition=partition, committed=committed, end=end)


def test_records_waiting_without_progress_for_the_stall_time_is_a_stall() -> None:
    detector = StallDetector(stall_seconds=10)
    assert detector.observe([row("news.raw", 0, 5, 9)], OWNED, AGENTS, now=100) == []
    assert detector.observe([row("news.raw", 0, 5, 12)], OWNED, AGENTS, now=109) == []
    [stall] = detector.observe([row("news.raw", 0, 5, 20)], OWNED, AGENTS, now=110)
    assert (stall.agent, stall.topic, stall.partition, stall.lag) == ("enrich", "news.raw", 0, 15)
    assert stall.reason(112) == "agent enrich stalled: 15 records waiting, no progress for 12 s"


def test_progress_drained_or_foreign_partitions_are_no_stall() -> None:
    detector = StallDetector(stall_seconds=10)
    detector.observe([row("news.raw", 0, 5, 9), row("news.raw", 1, 3, 3), row("news.raw", 2, 0, 50)], OWNED, AGENTS, 0)
    # partition 0 moved, partition 1 has nothing waiting, partition 2 belongs to another worker
    later = [row("news.raw", 0, 6, 9), row("news.raw", 1, 3, 3), row("news.raw", 2, 0, 50)]
    assert detector.observe(later, OWNED, AGENTS, now=30) == []
    # the clock restarts at the last move
    assert detector.observe([row("news.raw", 0, 6, 9)], OWNED, AGENTS, now=39) == []
    assert [s.partition for s in detector.observe([row("news.raw", 0, 6, 9)], OWNED, AGENTS, now=40)] == [0]


def test_a_partition_that_comes_back_starts_over_and_no_commit_counts_from_the_start() -> None:
    detector = StallDetector(stall_seconds=10)
    detector.observe([row("findings", 0, None, 4)], OWNED, AGENTS, now=0)
    assert detector.observe([row("findings", 0, None, 4)], OWNED, AGENTS, now=10)[0].agent == "incidents"
    detector.observe([row("findings", 0, None, 4)], set(), AGENTS, now=11)  # reassigned away
    assert detector.observe([row("findings", 0, None, 4)], OWNED, AGENTS, now=12) == []  # back: new clock
