"""Where a held-out decision goes wrong: false alarms and misses counted by the labels' own classes (the
``note`` tag of negatives such as ``[historical]`` or ``[civil-space]``, the modality, the kind), and the
modality and kind confusions on true positives. Counts only: no text leaves the labelled files."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from ..detector import NOT_SUPPRESSED, Reason

_TAG = re.compile(r"\s*\[([^\]]+)\]")
NO_TAG = "(untagged)"
NO_CANDIDATE = "no candidate sentence"


def note_tag(note: str | None) -> str:
    """The ``[tag]`` a labelled item's note starts with (the labelling conventions' special cases)."""
    m = _TAG.match(note or "")
    return m.group(1).strip() if m else NO_TAG


def candidate_shape(signals: Collection[str] | None, alone: bool) -> str:
    """The shape of an item's best candidate sentence, from the rules' signals (None: the item has none): a
    launch word with no weapon word, a weapon word with no launch word, a launch paired with a weapon, or
    paired but held back by the rules (a suppression reason); ``alone``: it is its passage's only candidate."""
    if signals is None:
        return NO_CANDIDATE
    reasons = {s.split(":", 1)[1] for s in signals if s.startswith("reason:")}
    if Reason.NO_WEAPON in reasons:
        shape = "launch word, no weapon word"
    elif Reason.NO_TRIGGER in reasons:
        shape = "weapon word, no launch word"
    elif NOT_SUPPRESSED in reasons:
        shape = "launch paired with a weapon"
    else:
        shape = "paired, held by the rules"
    return shape + (", only candidate" if alone else ", other candidates")


def _rate_rows(
    labels: Sequence[Mapping[str, Any]], among: np.ndarray, wrong: np.ndarray, key: Any, limit: int
) -> list[tuple[str, int, int]]:
    """(class, wrong, total) over the items in ``among``, the most frequent mistakes first."""
    total = Counter(key(x) for x, keep in zip(labels, among, strict=True) if keep)
    bad = Counter(key(x) for x, keep in zip(labels, among & wrong, strict=True) if keep)
    rows = sorted(total, key=lambda c: (-bad[c], -total[c], c))
    return [(c, bad[c], total[c]) for c in rows[:limit]]


def error_breakdown(
    labels: Sequence[Mapping[str, Any]],
    outcomes: Mapping[str, np.ndarray],
    limit: int = 10,
    shapes: Sequence[str] | None = None,
) -> dict[str, list[tuple[str, int, int]]]:
    """Tables of (class, errors, items): false alarms among negatives by note tag and by modality, misses
    among positives by modality and by kind, and wrong modality / kind among true positives by label;
    with ``shapes`` (one per item, :func:`candidate_shape`), misses by the shape of the best candidate."""
    expected, predicted = outcomes["expected"], outcomes["predicted"]
    negatives, positives = ~expected, expected
    hit = expected & predicted

    def field(name: str) -> Any:
        return lambda x: str(x.get(name) or "none")

    tables = {
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
    if shapes is not None:
        shape_of = {id(x): shape for x, shape in zip(labels, shapes, strict=True)}
        tables["misses by the best candidate's shape (positives)"] = _rate_rows(
            labels, positives, ~predicted, lambda x: shape_of[id(x)], limit
        )
    return tables


def breakdown_markdown(tables: Mapping[str, Sequence[tuple[str, int, int]]]) -> list[str]:
    """The tables as markdown lines, one small table each."""
    lines: list[str] = []
    for title, rows in tables.items():
        lines += ["", f"### {title}", "", "| class | errors / items |", "|---|---|"]
        lines += [f"| {c} | {bad} / {total} |" for c, bad, total in rows]
    return lines
