"""``wirewatch eval alerts FILE.jsonl``: the alert detector measured on labelled passages.

Runs exactly what the enrich agent runs (:func:`wirewatch.agents.detector.analyze_docs`), prints every
mismatch, and ends with one JSON line of figures. The file format is described in the evaluation
README: one object per line with ``id``, ``text``, ``expect_alert``, ``kind``, ``modality`` and ``actor``
(canonical names; a joint launch's separated by ';'), and optionally its article's ``source`` (its address),
``title`` and ``published_at`` (:func:`item_meta`). Actor accuracy is scored on the true positives whose label
names an actor.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from spacy.language import Language

from .detector import Detection, DetectorConfig, analyze_docs
from .learning.data import read_jsonl
from .learning.stats import bootstrap_interval
from .nlp import TextMeta, load_pipeline

BATCH = 16
#: an item's optional fields read as text (its ``text`` is required): its article's address, title, date; its actor
_TEXT_FIELDS = ("source", "title", "published_at", "actor")


def read_items(path: Path) -> list[dict[str, Any]]:
    """The labelled items of a JSONL file (blank lines skipped; a malformed line or item is an error)."""
    items = read_jsonl(path)
    for number, item in enumerate(items, 1):
        if not isinstance(item.get("text"), str) or "expect_alert" not in item:
            raise ValueError(f"{path}: item {number} needs 'text' (a string) and 'expect_alert'")
        for name in _TEXT_FIELDS:
            if item.get(name) is not None and not isinstance(item[name], str):
                raise ValueError(f"{path}: item {number}: '{name}' must be a string, not {item[name]!r}")
    return items


def _batches(items: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def score(items: Sequence[dict[str, Any]], detections: Sequence[Detection]) -> tuple[dict[str, Any], list[str]]:
    """Figures over items (see the README's scoring rules) and one printable line per mismatch."""
    tp = fp = fn = tn = 0
    modality_ok = kind_ok = 0
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    kind_confusion: dict[str, Counter[str]] = defaultdict(Counter)
    mismatches: list[str] = []
    for item, detection in zip(items, detections, strict=True):
        expected = bool(item["expect_alert"])
        best = detection.strongest()
        got = best is not None
        label = f"{item.get('kind', '?')}/{item.get('modality', '?')}"
        if expected and got:
            tp += 1
            assert best is not None
            modality_ok += best.modality == item.get("modality")
            kind_ok += best.kind == item.get("kind")
            confusion[str(item.get("modality"))][best.modality] += 1
            kind_confusion[str(item.get("kind"))][best.kind] += 1
            if best.modality != item.get("modality") or best.kind != item.get("kind"):
                mismatches.append(_line(item, f"alert {label}", f"alert {best.kind}/{best.modality}", best))
        elif expected:
            fn += 1
            reasons = sorted({s.reason or "?" for s in detection.signals if not s.alertable})
            mismatches.append(
                _line(item, f"alert {label}", "no alert" + (f" ({', '.join(reasons)})" if reasons else ""), None)
            )
        elif got:
            fp += 1
            assert best is not None
            mismatches.append(_line(item, f"no alert ({label})", f"alert {best.kind}/{best.modality}", best))
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    intervals = figures_with_intervals(item_outcomes(items, detections))
    figures = {
        "n": len(items),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "modality_accuracy": round(modality_ok / tp, 4) if tp else 0.0,
        "kind_accuracy": round(kind_ok / tp, 4) if tp else 0.0,
        # counted once, by the intervals' outcomes; absent when no label names an actor
        **({"actor_accuracy": intervals["actor_accuracy"]["value"]} if "actor_accuracy" in intervals else {}),
        # 95 % bootstrap intervals over items (1000 resamples, seed 0)
        **{f"{name}_ci": value["ci"] for name, value in intervals.items()},
        "modality_confusion": {k: dict(v) for k, v in sorted(confusion.items())},
        "kind_confusion": {k: dict(v) for k, v in sorted(kind_confusion.items())},
    }
    return figures, mismatches


def item_outcomes(labels: Sequence[dict[str, Any]], dets: Sequence[Detection]) -> dict[str, np.ndarray]:
    """Per item: expected, predicted, and (on true positives) modality, kind and actor right, as the eval scores;
    whether the label names an actor."""
    expected = np.asarray([bool(x["expect_alert"]) for x in labels])
    best = [d.strongest() for d in dets]
    predicted = np.asarray([b is not None for b in best])
    modality_ok = np.asarray(
        [b is not None and b.modality == x.get("modality") for x, b in zip(labels, best, strict=True)]
    )
    kind_ok = np.asarray([b is not None and b.kind == x.get("kind") for x, b in zip(labels, best, strict=True)])
    actors = [label_actors(x) for x in labels]
    actor_named = np.asarray([bool(a) for a in actors])
    actor_ok = np.asarray([b is not None and b.actor in a for a, b in zip(actors, best, strict=True)])
    return {
        "expected": expected,
        "predicted": predicted,
        "modality_ok": modality_ok,
        "kind_ok": kind_ok,
        "actor_named": actor_named,
        "actor_ok": actor_ok,
    }


def label_actors(item: dict[str, Any]) -> set[str]:
    """The actors an item's label names ('North Korea', or 'South Korea; United States' for a joint launch),
    without a labeller's remark in brackets ('Houthis (implicit)')."""
    names = (re.sub(r"\([^)]*\)", "", a).strip() for a in str(item.get("actor") or "").split(";"))
    return {a for a in names if a}


def _ratio(num: np.ndarray, den: np.ndarray) -> float:
    d = int(den.sum())
    return float(num.sum()) / d if d else float("nan")


FIGURES: dict[str, Callable[[dict[str, np.ndarray]], float]] = {
    "precision": lambda o: _ratio(o["expected"] & o["predicted"], o["predicted"]),
    "recall": lambda o: _ratio(o["expected"] & o["predicted"], o["expected"]),
    "f1": lambda o: _ratio(2 * (o["expected"] & o["predicted"]), o["expected"].astype(int) + o["predicted"]),
    "modality_accuracy": lambda o: _ratio(o["modality_ok"] & o["expected"], o["expected"] & o["predicted"]),
    "kind_accuracy": lambda o: _ratio(o["kind_ok"] & o["expected"], o["expected"] & o["predicted"]),
    # not one of the bars: on true positives whose label names an actor, the strongest finding's actor
    "actor_accuracy": lambda o: _ratio(
        o["actor_ok"] & o["expected"] & o["actor_named"], o["expected"] & o["predicted"] & o["actor_named"]
    ),
}


def figures_with_intervals(
    outcomes: dict[str, np.ndarray], seed: int = 0, extra: dict[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """Each figure and its bootstrap 95 % interval over items. ``extra``: more per-item 0/1 arrays whose
    mean is a figure (e.g. candidate recall over true items)."""
    n = len(outcomes["expected"])
    out: dict[str, Any] = {}
    for name, figure in FIGURES.items():
        value = figure(outcomes)
        if math.isnan(value):
            continue  # nothing to count (no true positive, no label naming an actor): no figure, not a NaN
        ci = bootstrap_interval(n, lambda idx, f=figure: f({k: v[idx] for k, v in outcomes.items()}), seed=seed)
        out[name] = {"value": round(value, 4), "ci": [round(ci[0], 4), round(ci[1], 4)]}
    for name, values in (extra or {}).items():
        ci = bootstrap_interval(len(values), lambda idx, v=values: float(np.mean(v[idx])), seed=seed)
        out[name] = {
            "value": round(float(np.mean(values)), 4),
            "ci": [round(ci[0], 4), round(ci[1], 4)],
            "n": len(values),
        }
    return out


def _line(item: dict[str, Any], expected: str, got: str, finding: Any) -> str:
    evidence = finding.evidence[0].text if finding is not None and finding.evidence else item["text"]
    evidence = " ".join(evidence.split())
    if len(evidence) > 200:
        evidence = evidence[:197] + "..."
    return f"MISMATCH {item.get('id', '?')}: expected {expected}; got {got} | {evidence}"


def item_meta(item: dict[str, Any]) -> TextMeta:
    """What a labelled item tells of its article: its ``source`` is the article's address."""
    return TextMeta(published_at=item.get("published_at"), url=item.get("source"), title=item.get("title"))


def detect_items(
    nlp: Language, items: Sequence[dict[str, Any]], config: DetectorConfig | None = None
) -> list[Detection]:
    """Each item's detection, its ``source`` read as the article's address, as the enrich agent reads an
    article's: the date a launch's month is read against when the item has no ``published_at``, and the headline
    when it has no ``title``."""
    texts = [i["text"] for i in items]
    meta = [item_meta(i) for i in items]
    return [d for _e, d in analyze_docs(nlp, texts, config=config, meta=meta)]


def evaluate(
    path: Path,
    *,
    nlp: Language | None = None,
    out: TextIO = sys.stdout,
    progress: bool = True,
    config: DetectorConfig | None = None,
) -> dict[str, Any]:
    """Evaluate the detector on ``path``: print mismatches and a JSON line of figures to ``out``.
    ``config``: the worker's detector settings (the alert model among them); default: the shipped ones."""
    if nlp is None:
        nlp = load_pipeline()
    items = read_items(Path(path))
    detections: list[Detection] = []
    show = progress and hasattr(out, "isatty") and out.isatty()
    if show:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(file=out), transient=True) as bar:
            task = bar.add_task("eval alerts", total=len(items))
            for batch in _batches(items, BATCH):
                detections.extend(detect_items(nlp, batch, config))
                bar.advance(task, len(batch))
    else:
        for batch in _batches(items, BATCH):
            detections.extend(detect_items(nlp, batch, config))
    figures, mismatches = score(items, detections)
    for line in mismatches:
        print(line, file=out)
    print(json.dumps(figures, sort_keys=False), file=out)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m wirewatch.agents.eval_alerts FILE.jsonl``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m wirewatch.agents.eval_alerts FILE.jsonl", file=sys.stderr)
        return 2
    evaluate(Path(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
