"""Recall of the priority lane's pre-filter (``agents/priority.py``) on labelled alert sets.

A passage labelled ``expect_alert: true`` that the pre-filter leaves in the ordinary lane is a miss: its
alert would wait behind the backlog in a flood. Prints, per set, the misses (id and text), the share of
passages without an alert that take the fast lane anyway, the time per passage, and one JSON line.
Run: ``python bench/lane_recall.py [FILE.jsonl ...]`` (default: the train and dev sets of
``$WIREWATCH_SHARED_DIR`` when it is set, and the held-out set of ``tests/data``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import orjson

from wirewatch.agents.priority import launch_candidate

REPO = Path(__file__).resolve().parent.parent


def default_sets() -> list[Path]:
    shared = os.environ.get("WIREWATCH_SHARED_DIR")
    sets = [Path(shared) / "train/alerts.jsonl", Path(shared) / "eval/dev_alerts.jsonl"] if shared else []
    return [*sets, REPO / "tests/data/holdout_alerts.jsonl"]


def measure(path: Path) -> dict[str, object]:
    items = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    started = time.perf_counter()
    routed = [launch_candidate(item.get("title") or "", item["text"]) for item in items]
    per_item_us = (time.perf_counter() - started) / max(1, len(items)) * 1e6
    positives = [(item, r) for item, r in zip(items, routed, strict=True) if item["expect_alert"]]
    negatives = [r for item, r in zip(items, routed, strict=True) if not item["expect_alert"]]
    misses = [item for item, r in positives if not r]
    return {
        "set": path.name,
        "alerts": len(positives),
        "missed": len(misses),
        "recall": round(1 - len(misses) / max(1, len(positives)), 4),
        "no_alert_routed": round(sum(negatives) / max(1, len(negatives)), 4),
        "us_per_item": round(per_item_us, 1),
        "missed_ids": [item["id"] for item in misses],
        "_misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    figures = [measure(path) for path in parser.parse_args().files or default_sets()]
    for f in figures:
        print(
            f"{f['set']}: {f['alerts']} alerts, {f['missed']} sent to the slow lane (recall {f['recall']:.2%}); "
            f"{f['no_alert_routed']:.0%} of the passages without an alert take the fast lane; "
            f"{f['us_per_item']} µs per passage"
        )
        for item in f.pop("_misses"):  # type: ignore[union-attr]
            print(f"  miss {item['id']}: {item['text'][:160]}")
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
