"""``wirewatch eval stance FILE.jsonl``: score stance tagging on labelled passages.

Runs what the enrich agent runs (``nlp.pipe`` in batches -> ``entities_of`` -> ``tag_stances``), no
broker. For each item the system's stance of the item's speaker toward the item's target is compared with
the label (``neutral`` when the system finds none); mismatches are printed and one final JSON line carries
n, accuracy, per-class precision/recall/F1 and macro-F1 over favor and against (SemEval-2016's F_avg), 95 %
bootstrap intervals (``*_ci``), and ``speaker_found``: the share of items whose labelled speaker the system
found at all.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO, TypeVar

import numpy as np
from spacy.language import Language

from .learning.data import read_jsonl
from .learning.stats import bootstrap_interval
from .nlp import entities_of, load_pipeline
from .stance import AGAINST, FAVOR, NEUTRAL, Stance, load_lexicon, tag_stances

LABELS = (FAVOR, AGAINST, NEUTRAL)
BATCH_SIZE = 16
_NAME_SPLIT = re.compile(r"\s*(?:[(),;]|\band\b)\s*")
_LEADING_THE = re.compile(r"^the\s+", re.I)
_NAME_FUNCTION_WORDS = frozenset({"of", "the", "and", "for", "de", "al", "bin", "van", "von"})


def _norm(name: str) -> str:
    return _LEADING_THE.sub("", re.sub(r"[’']s\b", "", name.strip().lower())).strip(" .,")


def _names(speaker: str) -> list[str]:
    """'the world leaders (Theresa May, Angela Merkel)' -> the whole, 'world leaders', 'theresa may', ..."""
    parts = [_norm(p) for p in _NAME_SPLIT.split(speaker) if p.strip()]
    return [n for n in [_norm(speaker), *parts] if n]


class Attributed(Protocol):
    """What speaker matching reads: a :class:`Stance` or a :class:`~.stance.pairs.Pair`."""

    @property
    def speaker(self) -> str: ...
    @property
    def speaker_canonical(self) -> str: ...
    @property
    def resolved(self) -> bool: ...
    @property
    def target(self) -> str: ...


A = TypeVar("A", bound=Attributed)


def _matches(gold: str, stance: Attributed) -> bool:
    """Same speaker: canonical name or surface equal or contained (word-wise), or the same surname."""
    system = [n for n in (_norm(stance.speaker_canonical), _norm(stance.speaker)) if n]
    for g in _names(gold):
        g_words = g.split()
        for s in system:
            s_words = s.split()
            if g == s or f" {s} " in f" {g} " or f" {g} " in f" {s} ":
                return True
            if len(g_words) > 1 and g_words[-1] == s_words[-1] and len(g_words[-1]) > 2:
                return True
    return False


def _is_description(stance: Attributed) -> bool:
    """A speaker known by a description ("spokesperson", "Iran's top diplomat", "the Secretary-General"), not
    by a name: a lower-case word other than a name's function words, or a role noun as its last word."""
    words = stance.speaker_canonical.split()
    last = words[-1].split("-")[-1].lower() if words else ""
    return last in load_lexicon().role_nouns or any(w[:1].islower() and w not in _NAME_FUNCTION_WORDS for w in words)


def matching(found: Sequence[A], speaker: str, target: str, text: str) -> list[A]:
    """The stances (or pairs) of ``found`` that are the labelled ``speaker``'s toward ``target``.

    ``speaker`` "" is the author. A speaker the passage never names (the labels then give the person named
    just before the passage) is matched to the passage's unresolved speakers ("he said", unattributed
    quotes) and bare descriptions ("the spokesperson said"), as the labelling conventions prescribe.
    """
    on_target = [s for s in found if s.target == target]
    if not speaker:
        return [s for s in on_target if not s.speaker]
    chosen = [s for s in on_target if s.speaker and _matches(speaker, s)]
    named_in_text = any(
        w in text.lower() for n in _names(speaker) for w in ([n] + ([n.split()[-1]] if " " in n else []))
    )
    if not chosen and not named_in_text:
        # the labels name the person the source named before the passage: the passage itself has
        # only "he", an unattributed quote or a bare role ("the spokesperson")
        chosen = [s for s in on_target if not s.resolved or _is_description(s)]
    return chosen


def speaker_found(found: Sequence[Attributed], speaker: str, text: str) -> bool:
    """Whether the system found the labelled ``speaker`` at all (toward any target)."""
    return any(matching(found, speaker, s.target, text) for s in found)


def find_stance(stances: Sequence[Stance], speaker: str, target: str, text: str) -> str:
    """The system's stance of ``speaker`` toward ``target``; ``neutral`` when none was found."""
    chosen = matching(stances, speaker, target, text)
    if not chosen:
        return NEUTRAL
    # several stances for one labelled speaker (a name and a pronoun for the same person): the surest
    best = max(chosen, key=lambda s: (s.confidence, len(s.evidence)))
    return best.stance


def score(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Figures for (gold, predicted) label pairs."""
    n = len(pairs)
    per_class: dict[str, dict[str, float]] = {}
    for label in LABELS:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    accuracy = sum(1 for g, p in pairs if g == p) / n if n else 0.0
    macro = (per_class[FAVOR]["f1"] + per_class[AGAINST]["f1"]) / 2
    return {"n": n, "accuracy": round(accuracy, 4), "macro_f1": round(macro, 4), "per_class": per_class}


def score_with_intervals(pairs: Sequence[tuple[str, str]], *, seed: int = 0) -> dict[str, Any]:
    """:func:`score`'s figures plus 95 % percentile bootstrap intervals over items (``macro_f1_ci``,
    ``accuracy_ci``, and ``f1_ci`` per class)."""
    figures = score(pairs)
    if not pairs:
        return figures

    def resampled(indices: np.ndarray) -> dict[str, Any]:
        return score([pairs[i] for i in indices])

    for key in ("macro_f1", "accuracy"):
        figures[f"{key}_ci"] = _rounded(bootstrap_interval(len(pairs), lambda ix, k=key: resampled(ix)[k], seed=seed))
    for label in LABELS:
        figures["per_class"][label]["f1_ci"] = _rounded(
            bootstrap_interval(len(pairs), lambda ix, lb=label: resampled(ix)["per_class"][lb]["f1"], seed=seed)
        )
    return figures


def _rounded(interval: tuple[float, float]) -> list[float]:
    return [round(interval[0], 4), round(interval[1], 4)]


def _progress(items: Sequence[Any], out: TextIO, enabled: bool) -> Iterator[Any]:
    if not (enabled and hasattr(out, "isatty") and out.isatty()):
        yield from items
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(file=out), transient=True) as bar:
        task = bar.add_task("stance", total=len(items))
        for item in items:
            yield item
            bar.advance(task)


def read_statements(path: str | Path) -> list[dict[str, Any]]:
    """The labelled statements of a JSONL file: each needs ``text``, ``speaker`` ("" for the author), ``target``
    and a ``stance`` among :data:`LABELS`. A statement without one is an error naming it, never scored as
    ``neutral`` (an unlabelled file would otherwise score accuracy 1.0)."""
    items = read_jsonl(path)
    for number, item in enumerate(items, 1):
        missing = [k for k in ("text", "speaker", "target", "stance") if not isinstance(item.get(k), str)]
        if missing:
            raise ValueError(f"{path}: statement {number} needs {', '.join(repr(k) for k in missing)}")
        if item["stance"] not in LABELS:
            raise ValueError(f"{path}: statement {number}: stance {item['stance']!r} is not one of {', '.join(LABELS)}")
    return items


def evaluate(
    path: Path, *, nlp: Language | None = None, out: TextIO = sys.stdout, progress: bool = True
) -> dict[str, Any]:
    """Score the stance items in ``path``; print mismatches and a final JSON line of figures to ``out``."""
    items = read_statements(path)
    nlp = nlp or load_pipeline()
    texts = [str(item.get("text", "")) for item in items]
    pairs: list[tuple[str, str]] = []
    mismatches: list[str] = []
    speakers_found = 0
    with nlp.memory_zone():
        docs = nlp.pipe(texts, batch_size=BATCH_SIZE)
        for item, doc in zip(_progress(items, out, progress), docs, strict=True):
            stances = tag_stances(doc, entities_of(doc))
            gold, speaker, target = item["stance"], str(item["speaker"]), str(item["target"])
            predicted = find_stance(stances, speaker, target, doc.text)
            speakers_found += speaker_found(stances, speaker, doc.text)
            pairs.append((gold, predicted))
            if predicted != gold:
                found = "; ".join(
                    f"{s.speaker_canonical or s.speaker or '<author>'}:{s.target}={s.stance}" for s in stances
                )
                mismatches.append(
                    f"MISMATCH {item.get('id', '?')}: {speaker or '<author>'} / {target}: "
                    f"expected {gold}, got {predicted}  [system: {found or 'nothing'}]"
                )
    # printed once the progress bar is gone, so that a terminal shows them whole
    for line in mismatches:
        print(line, file=out)
    figures = score_with_intervals(pairs)
    figures["mismatches"] = len(mismatches)
    # how often the labelled speaker was found at all (toward any target): attribution, apart from polarity
    figures["speaker_found"] = round(speakers_found / len(items), 4) if items else 0.0
    print(json.dumps(figures, sort_keys=True), file=out)
    return figures
