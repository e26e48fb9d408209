"""``wirewatch train stance FILE.jsonl [...]``: fit the learned stance polarity, cross-validated by source.

Each labelled statement (speaker, target, stance; ``../shared/eval/README.md`` conventions) is parsed with
the shipped pipeline; the rules find its (speaker, target) pairs (:mod:`.stance_pairs`) and the pairs of
the labelled speaker toward the labelled target are training rows with the label. A statement where the
rules miss the speaker still teaches polarity through the pairs of any speaker toward its target
(``fallback`` rows, training only). Figures are end to end, as ``wirewatch eval stance`` scores: a
statement whose speaker and target the system does not pair counts as ``neutral``.

Cross-validation groups statements by source page (no page on both sides); the figures carry percentile
bootstrap intervals over statements. The fitted temperature comes from the held-out logits, so the
shipped probabilities are calibrated on statements the model had not seen.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from spacy.language import Language

from .eval_stance import LABELS, matching, score
from .learning.card import write_card
from .learning.data import read_jsonl, source_group
from .learning.features import SparseRows, hashed_features
from .learning.folds import grouped_folds
from .learning.linear import LinearModel, fit_linear, fit_temperature
from .learning.stats import bootstrap_interval
from .nlp import entities_of
from .stance import NEUTRAL
from .stance_features import HASH_DIM, VECTOR_DIM, FeatureConfig, pair_strings, pair_vector
from .stance_model import MODEL_NAME, choose
from .stance_pairs import Pair, find_pairs

BATCH_SIZE = 16
DEFAULT_C = 1.0
#: The feature groups compared by cross-validation; the first is the shipped choice unless told otherwise.
CANDIDATES: dict[str, FeatureConfig] = {
    "words+path+cues": FeatureConfig(),
    "words+path+cues+vector": FeatureConfig(vector=True),
    "words only": FeatureConfig(path=False, cues=False),
    "cues only": FeatureConfig(words=False, target_words=False, path=False),
    "vector+cues": FeatureConfig(words=False, target_words=False, path=False, vector=True),
}


@dataclass
class Example:
    """One labelled statement, featurised for every candidate feature set."""

    id: str
    group: str
    label: str
    # per feature set: the rows of the labelled speaker's pairs, then the fallback rows (training only)
    strings: dict[str, list[list[str]]] = field(default_factory=dict)
    vectors: list[np.ndarray] = field(default_factory=list)
    fallback_strings: dict[str, list[list[str]]] = field(default_factory=dict)
    fallback_vectors: list[np.ndarray] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """The system pairs the labelled speaker with the labelled target."""
        return bool(self.vectors)


def build_examples(
    nlp: Language, items: Sequence[dict[str, Any]], configs: dict[str, FeatureConfig] | None = None
) -> list[Example]:
    """Parse the statements once and featurise their pairs for each feature set in ``configs``."""
    configs = configs or CANDIDATES
    examples: list[Example] = []
    texts = [str(item.get("text", "")) for item in items]
    with nlp.memory_zone():
        for item, doc in zip(items, nlp.pipe(texts, batch_size=BATCH_SIZE), strict=True):
            label = str(item.get("stance", ""))
            if label not in LABELS:
                raise ValueError(f"{item.get('id', '?')}: stance {label!r} is not one of {', '.join(LABELS)}")
            pairs = find_pairs(doc, entities_of(doc))
            target = str(item.get("target", ""))
            chosen = matching(pairs, str(item.get("speaker", "")), target, doc.text)
            fallback = [] if chosen else _fallback(pairs, target)
            ex = Example(str(item.get("id", "")), source_group(str(item.get("source", ""))), label)
            for name, config in configs.items():
                ex.strings[name] = [pair_strings(doc, p, config) for p in chosen]
                ex.fallback_strings[name] = [pair_strings(doc, p, config) for p in fallback]
            ex.vectors = [pair_vector(doc, p) for p in chosen]
            ex.fallback_vectors = [pair_vector(doc, p) for p in fallback]
            examples.append(ex)
    return examples


def _fallback(pairs: list[Pair], target: str) -> list[Pair]:
    """All readings toward ``target`` as one pair (the speaker was missed, the words still teach)."""
    on_target = [p for p in pairs if p.target == target]
    if not on_target:
        return []
    merged = Pair(on_target[0].speaker_info, target)
    for p in on_target:
        merged.readings += [r for r in p.readings if not any(r is m for m in merged.readings)]
    return [merged]


def _rows(strings: list[list[str]], vectors: list[np.ndarray], config: FeatureConfig) -> SparseRows:
    rows = SparseRows(HASH_DIM, (VECTOR_DIM,) if config.vector else ())
    for s, v in zip(strings, vectors, strict=True):
        rows.add(hashed_features(s, HASH_DIM), (v,) if config.vector else ())
    return rows


def training_rows(examples: Sequence[Example], name: str, config: FeatureConfig) -> tuple[SparseRows, list[str]]:
    """The rows of ``examples`` under feature set ``name``: labelled pairs and fallback rows."""
    strings: list[list[str]] = []
    vectors: list[np.ndarray] = []
    labels: list[str] = []
    for ex in examples:
        for s, v in [*zip(ex.strings[name], ex.vectors), *zip(ex.fallback_strings[name], ex.fallback_vectors)]:
            strings.append(s)
            vectors.append(v)
            labels.append(ex.label)
    return _rows(strings, vectors, config), labels


def fit(examples: Sequence[Example], name: str, config: FeatureConfig, c: float, seed: int) -> LinearModel:
    rows, labels = training_rows(examples, name, config)
    return fit_linear(rows, labels, C=c, seed=seed, labels=LABELS, spec=config.spec(), class_weight="balanced")


def predict(model: LinearModel, ex: Example, name: str, config: FeatureConfig) -> tuple[str, np.ndarray | None]:
    """The system's label for a statement (neutral when it has no pair) and the chosen pair's logits."""
    if not ex.found:
        return NEUTRAL, None
    logits = model.logits(_rows(ex.strings[name], ex.vectors, config))
    best = choose(logits / model.temperature)
    return model.labels[int(np.argmax(logits[best]))], logits[best]


@dataclass
class CrossValidation:
    predicted: list[str]
    figures: dict[str, Any]
    temperature: float


def cross_validate(
    examples: Sequence[Example], name: str, config: FeatureConfig, *, c: float, folds: int, seed: int
) -> CrossValidation:
    """Out-of-fold predictions grouped by source, their figures with bootstrap intervals, and the
    temperature that calibrates the out-of-fold logits."""
    predicted = [NEUTRAL] * len(examples)
    held_logits: list[np.ndarray] = []
    held_labels: list[int] = []
    for train, test in grouped_folds([ex.group for ex in examples], k=folds, seed=seed):
        model = fit([examples[i] for i in train], name, config, c, seed)
        for i in test:
            predicted[i], logits = predict(model, examples[i], name, config)
            if logits is not None:
                held_logits.append(logits)
                held_labels.append(LABELS.index(examples[i].label))
    gold = [ex.label for ex in examples]
    temperature = fit_temperature(np.array(held_logits), held_labels) if held_logits else 1.0
    return CrossValidation(predicted, figures_with_intervals(gold, predicted, seed=seed), temperature)


def figures_with_intervals(gold: Sequence[str], predicted: Sequence[str], *, seed: int = 0) -> dict[str, Any]:
    """``score``'s figures, each headline figure with a 95 % bootstrap interval over statements."""
    pairs = list(zip(gold, predicted, strict=True))
    figures = score(pairs)

    def on(indices: np.ndarray, key: str, label: str | None = None) -> float:
        sample = score([pairs[i] for i in indices])
        return sample["per_class"][label]["f1"] if label else sample[key]

    intervals = {"macro_f1": None, "accuracy": None}
    for key in intervals:
        intervals[key] = _rounded(bootstrap_interval(len(pairs), lambda ix, k=key: on(ix, k), seed=seed))
    for label in LABELS:
        figures["per_class"][label]["f1_ci"] = _rounded(
            bootstrap_interval(len(pairs), lambda ix, lb=label: on(ix, "", lb), seed=seed)
        )
    figures["macro_f1_ci"], figures["accuracy_ci"] = intervals["macro_f1"], intervals["accuracy"]
    return figures


def _rounded(interval: tuple[float, float]) -> list[float]:
    return [round(interval[0], 4), round(interval[1], 4)]
