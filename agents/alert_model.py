"""The learned alert model: features of a candidate sentence, the model files, the predictions.

The detector's rules find every sentence with a launch, missile or weapon cue and describe it (the
reason they would suppress it, modality, kind, actor, speaker... see
:func:`wirewatch.agents.detector.sentence_candidates`). Three logistic models read that description plus
hashed word n-grams of the sentence and its neighbours and predict: alertable or not (a calibrated
probability, the finding's ``confidence``), the modality (occurred / possible / threatened) and the kind.
The detector applies the verdicts (:func:`wirewatch.agents.detector.detect`); this module knows nothing
of the detector but the shape of a candidate sentence.

The weights live in a directory (``data/models/alert`` in the package, or ``WIREWATCH_ALERT_MODEL``),
written by ``wirewatch train alerts``; they are loaded once per process by :func:`load_alert_model`.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .document import doc_memo
from .learning.alert_context import context_strings
from .learning.features import SparseRows, hashed_features, span_vector
from .learning.linear import LinearModel, ModelFileError
from .nlp import token_columns
from .taxonomy import TAXONOMY

if TYPE_CHECKING:  # the shape of a candidate sentence only: the detector imports this module, not the reverse
    from .detector import SentenceCandidate

#: Bump when the features change: a model trained on other features is refused at load time.
FEATURE_VERSION = 4
BUNDLE_FORMAT = "wirewatch-alert-model/1"
BUNDLE_FILE = "alert_model.json"
PARTS = ("alert", "modality", "kind")
#: Representations the trainer compares; the chosen one is recorded in the bundle.
REPRESENTATIONS = ("rules", "rules+ngrams", "rules+ngrams+tok2vec")
TOK2VEC_WIDTH = 96  # en_core_web_sm 3.8's tok2vec output width
#: Columns of the passage block: the rules' signals of the article's other candidate sentences, read by the
#: modality and kind models (by grouped CV: modality accuracy 0.870 against 0.857, kind 0.878 against 0.870);
#: the alert model is fitted without them (its F1 fell from 0.827 to 0.811 with them).
PASSAGE_DIM = 4096
ALERT_LABELS = ("no", "yes")
#: How far, in sentences either side, the modality and kind of a candidate are voted over (see
#: :func:`passage_vote`): the next sentence only, so that an article's separate events keep their own (by grouped
#: CV, a window of three sentences, a whole labelled passage, gained modality +0.007 against +0.006).
VOTE_WINDOW = 1
#: The kind that names no class of missile: a neighbour's vote may make it specific (see ``AlertModel.predict``).
GENERIC_KIND = "ballistic_unspecified"

_DIGIT = re.compile(r"\d")


def shipped_model_dir() -> Path:
    return Path(str(files("wirewatch.agents") / "data" / "models" / "alert"))


# ------------------------------------------------------------------------------------------ features


def _words(span: Any) -> list[str]:
    # memoised per doc: a sentence is read again as each neighbouring candidate's context
    memo = doc_memo(span.doc, "alert_words")
    words = memo.get((span.start, span.end))
    if words is None:
        cols = token_columns(span.doc)
        lemmas, lowers = cols.lemma, cols.lower
        words = [_DIGIT.sub("0", lemmas[i]) for i in range(span.start, span.end) if lowers[i].strip()]
        memo[(span.start, span.end)] = words
    return words


def feature_strings(sc: SentenceCandidate, representation: str) -> list[str]:
    """The sparse features of a candidate sentence: the rules' signals, the kind of the system it names, its
    context (time, tense and aspect, test and denial cues, the roles of its actors: see
    :func:`~wirewatch.agents.learning.alert_context.context_strings`), then (``+ngrams``) the sentence's
    words and word pairs and its neighbours' words."""
    out = [f"r:{s}" for s in sc.signals]
    out.append(f"named:{sc.named_kind or 'none'}")
    out += [f"c:{s}" for s in context_strings(sc.sent)]
    if "no_rule" in sc.signals and "doc_rule_alert" in sc.signals:
        # a launch word the rules made nothing of, in an article where another sentence carries the launch
        # ("Japan confirmed the launch"): the training leaves such sentences out of true passages (see
        # alert_training_rows), so this conjunction is learned from the false passages alone
        out.append("stand_in_beside_rule")
    if "ngrams" in representation:
        words = _words(sc.sent)
        out += [f"w:{w}" for w in words]
        out += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
        for neighbour in (sc.previous, sc.following):
            if neighbour is not None:
                out += [f"n:{w}" for w in _words(neighbour)]
    return out


def feature_spec(representation: str, dim: int) -> dict[str, Any]:
    if representation not in REPRESENTATIONS:
        raise ValueError(f"unknown representation {representation!r} (one of {', '.join(REPRESENTATIONS)})")
    dense = ["tok2vec"] if "tok2vec" in representation else []
    return {
        "version": FEATURE_VERSION,
        "representation": representation,
        "hash_dim": dim,
        "passage_dim": PASSAGE_DIM,
        "dense": dense,
    }


def passage_columns(spec: dict[str, Any]) -> range:
    """The columns of the passage block (after the sentence's hashed features, before the dense blocks)."""
    dim = int(spec["hash_dim"])
    return range(dim, dim + int(spec.get("passage_dim", 0)))


@lru_cache(maxsize=64)
def squashed(count: float) -> float:
    """A hashed feature's count as its row value, sign(count) * log(1 + |count|): a word said three times
    weighs more than once, not three times (cached: the counts are a few small whole numbers)."""
    return float(np.sign(count) * np.log1p(abs(count)))


def _passage_signals(cands: Sequence[SentenceCandidate]) -> list[set[str]]:
    """Per candidate, the signals of the article's other candidate sentences."""
    counts: dict[str, int] = {}
    own = [set(sc.signals) for sc in cands]
    for signals in own:
        for s in signals:
            counts[s] = counts.get(s, 0) + 1
    return [{s for s, n in counts.items() if n - (s in mine) > 0} for mine in own]


def candidate_rows(cands: Sequence[SentenceCandidate], spec: dict[str, Any]) -> SparseRows:
    """One feature row per candidate sentence of one article, as ``spec`` (:func:`feature_spec`) lays them
    out: the sentence's hashed features, the passage block (its article's other candidates' signals), the
    dense blocks."""
    dim = int(spec["hash_dim"])
    passage_dim = int(spec.get("passage_dim", 0))
    dense = list(spec.get("dense") or [])
    rows = SparseRows(dim + passage_dim, dense_widths=[TOK2VEC_WIDTH] * len(dense))
    others = _passage_signals(cands) if passage_dim else [set() for _ in cands]
    for sc, context in zip(cands, others, strict=True):
        sparse = {c: squashed(v) for c, v in hashed_features(feature_strings(sc, spec["representation"]), dim).items()}
        # the passage block also holds the sentence's qualifiers (who tells the launch, hedges outside its clause,
        # flight figures): like the passage's signals they are read by the modality and kind models only
        block = sorted(context) + [f"q:{s}" for s in sc.qualifiers] if passage_dim else []
        sparse.update({dim + c: 1.0 if v > 0 else -1.0 for c, v in hashed_features(block, passage_dim).items()})
        vectors = [span_vector(sc.sent) for _ in dense]
        if any(v.shape[0] != TOK2VEC_WIDTH for v in vectors):
            raise ModelFileError(
                f"the alert model reads token vectors {TOK2VEC_WIDTH} wide (en_core_web_sm); this spaCy pipeline"
                f" gives {vectors[0].shape[0]}: retrain it with `wirewatch train alerts --representation rules+ngrams`"
            )
        rows.add(sparse, vectors)
    return rows


def passage_vote(proba: np.ndarray, positions: Sequence[int], window: int = VOTE_WINDOW) -> np.ndarray:
    """Per candidate, the class (column of ``proba``) with the highest mean probability over the candidates
    within ``window`` sentences of it, itself included. The labels are the passage's, so neighbouring sentences
    speak together: "the test will go ahead, an official said" takes the modality of "preparations for a launch"
    in the sentence before it, where the strongest finding alone let one sentence's "occurred" outrank its
    neighbour's "possible" (by grouped CV: see the model card)."""
    where = np.asarray(positions, dtype=np.int64)
    if proba.shape[0] != where.shape[0]:
        raise ValueError(f"{proba.shape[0]} rows of probabilities for {where.shape[0]} sentence positions")
    near = np.abs(where[:, None] - where[None, :]) <= window
    return (near.astype(np.float64) @ proba).argmax(axis=1)


# ------------------------------------------------------------------------------------------ the model


@dataclass
class AlertModel:
    """The three models of the decision and the article threshold on the alert probability."""

    alert: LinearModel
    modality: LinearModel
    kind: LinearModel
    threshold: float
    spec: dict[str, Any]
    #: kind sources (``named:srbm``...) found at odds with the training labels: skipped when the kind is chosen
    distrusted_kinds: tuple[str, ...] = ()

    def predict(self, rows: Any, positions: Sequence[int]) -> tuple[np.ndarray, list[str], list[str]]:
        """(alert probability, modality, kind) per row: the rows of one article's candidate sentences, at
        sentence ``positions``. The modality is the row's own, or the vote of its neighbourhood
        (:func:`passage_vote`) where that ranks lower (occurred > threatened > possible): a neighbour's hedge or
        announcement qualifies a launch ("preparations for a launch. The rocket is on the pad."), a neighbour's
        launch does not make an announced one happen. Likewise the kind is the row's own, or its neighbourhood's
        vote where its own is :data:`GENERIC_KIND`: "the missile flew 1,000 km" next to "launched an ICBM"."""
        p_alert = self.alert.predict_proba(rows)[:, ALERT_LABELS.index("yes")]
        proba = self.modality.predict_proba(rows)
        rank = TAXONOMY.modality_rank
        labels = self.modality.labels
        modality = [
            labels[voted] if rank.get(labels[voted], 0) < rank.get(labels[own], 0) else labels[own]
            for own, voted in zip(proba.argmax(axis=1), passage_vote(proba, positions), strict=True)
        ]
        proba = self.kind.predict_proba(rows)
        kinds = self.kind.labels
        kind = [
            kinds[voted] if kinds[own] == GENERIC_KIND else kinds[own]
            for own, voted in zip(proba.argmax(axis=1), passage_vote(proba, positions), strict=True)
        ]
        return p_alert, modality, kind

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> None:
        directory = Path(directory)
        for part in PARTS:
            getattr(self, part).save(directory / f"{part}.npz")
        meta = {
            "format": BUNDLE_FORMAT,
            "threshold": self.threshold,
            "spec": self.spec,
            "distrusted_kinds": list(self.distrusted_kinds),
            **(extra or {}),
        }
        (directory / BUNDLE_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path, kinds: Collection[str], modalities: Collection[str]) -> AlertModel:
        """Every failure (missing directory or file, corrupt file, a model for other features or labels
        than ``kinds`` and ``modalities``) is a :class:`ModelFileError` naming the file."""
        directory = Path(directory)
        meta_path = directory / BUNDLE_FILE
        if not directory.is_dir():
            raise ModelFileError(f"alert model directory not found: {directory}")
        if not meta_path.is_file():
            raise ModelFileError(f"{meta_path} not found: not an alert model directory (wirewatch train alerts)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            spec, threshold = dict(meta["spec"]), float(meta["threshold"])
            distrusted = tuple(str(k) for k in meta.get("distrusted_kinds", ()))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f"{meta_path}: not a readable alert model file: {exc}") from exc
        if meta.get("format") != BUNDLE_FORMAT:
            raise ModelFileError(f"{meta_path}: format {meta.get('format')!r}, expected {BUNDLE_FORMAT!r}")
        if spec.get("version") != FEATURE_VERSION:
            raise ModelFileError(
                f"{meta_path}: built for alert features version {spec.get('version')!r}, this code computes"
                f" version {FEATURE_VERSION}: retrain it with `wirewatch train alerts`"
            )
        expected = {k: spec[k] for k in ("version", "representation", "hash_dim", "passage_dim", "dense") if k in spec}
        parts = {part: LinearModel.load(directory / f"{part}.npz", spec=expected) for part in PARTS}
        if parts["alert"].labels != ALERT_LABELS:
            raise ModelFileError(f"{directory / 'alert.npz'}: labels {parts['alert'].labels}, expected {ALERT_LABELS}")
        for part, allowed in (("modality", modalities), ("kind", kinds)):
            unknown = set(parts[part].labels) - set(allowed)
            if unknown:
                raise ModelFileError(f"{directory / (part + '.npz')}: unknown labels {sorted(unknown)}")
        return cls(parts["alert"], parts["modality"], parts["kind"], threshold, spec, distrusted)


@lru_cache(maxsize=4)
def load_alert_model(directory: str | None, kinds: tuple[str, ...], modalities: tuple[str, ...]) -> AlertModel:
    """The alert model in ``directory`` (None: the shipped one), loaded once per process."""
    return AlertModel.load(directory or shipped_model_dir(), kinds, modalities)
