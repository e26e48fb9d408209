"""Where a held-out decision goes wrong: false alarms and misses counted by the labels' own classes (the
``note`` tag of negatives such as ``[historical]`` or ``[civil-space]``, the modality, the kind), and the
modality and kind confusions on true positives. Counts only: no text leaves the labelled files."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

_TAG = re.compile(r"\s*\[([^\]]+)\]")
NO_TAG = "(untagged)"


def note_tag(note: str | None) -> str:
    """The ``[tag]`` a labelled item's note starts with (the labelling conventions' special cases)."""
    m = _TAG.match(note or "")
    return m.group(1).strip() if m else NO_TAG


def _rate_rows(
    labels: Sequence[Mapping[str, Any]], among: np.ndarray, wrong: np.ndarray, key: Any, limit: int
) -> list[tuple[str, int, int]]:
    """(class, wrong, total) over the items in ``among``, the most frequent mistakes first."""
    total = Counter(key(x) for x, keep in zip(labels, among, strict=True) if keep)
    bad = Counter(key(x) for x, keep in zip(labels, among & wrong, strict=True) if keep)
    rows = sorted(total, key=lambda c: (-bad[c], -total[c], c))
    return [(c, bad[c], total[c]) for c in rows[:limit]]


def error_breakdown(
    labels: Sequence[Mapping[str, Any]], outcomes: Mapping[str, np.ndarray], limit: int = 10
) -> dict[str, list[tuple[str, int, int]]]:
    """Tables of (class, errors, items): false alarms among negatives by note tag and by modality, misses
    among positives by modality and by kind, and wrong modality / kind among true positives by label."""
    expected, predicted = outcomes["expected"], outcomes["predicted"]
    negatives, positives = ~expected, expected
    hit = expected & predicted

    def field(name: str) -> Any:
        return lambda x: str(x.get(name) or "none")

    return {
        "false alarms by note tag (negatives)": _rate_rows(
            labels, negatives, predicted, lambda x: note_tag(x.get("note")), limit
        ),
        "false alarms by modality (negatives)": _rate_rows(labels, negatives, predicted, field("modality"), limit),
        "misses by modality (positives)": _rate_rows(labels, positives, ~predicted, field("modality"), limit),
        "misses by kind (positives)": _rate_rows(labels, positives, ~predicted, field("kind"), limit),
        "wrong modality by label (true positives)": _rate_rows(
            labels, hit, ~outcomes["modality_ok"], field("modality"), limit
        ),
        "wrong kind by label (true positives)": _rate_rows(labels, hit, ~outcomes["kind_ok"], field("kind"), limit),
    }


def breakdown_markdown(tables: Mapping[str, Sequence[tuple[str, int, int]]]) -> list[str]:
    """The tables as markdown lines, one small table each."""
    lines: list[str] = []
    for title, rows in tables.items():
        lines += ["", f"### {title}", "", "| class | errors / items |", "|---|---|"]
        lines += [f"| {c} | {bad} / {total} |" for c, bad, total in rows]
    return lines
