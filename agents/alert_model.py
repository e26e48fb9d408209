"""The learned alert decision over the rules' candidate sentences.

The detector's rules find every sentence with a launch, missile or weapon cue and describe it (the
reason they would suppress it, modality, kind, actor, speaker... see
:func:`wirewatch.agents.detector.sentence_candidates`). Three logistic models read that description plus
hashed word n-grams of the sentence and its neighbours and decide: alertable or not (a calibrated
probability, the finding's ``confidence``), the modality (occurred / possible / threatened) and the kind.
A kind named by the weapon (``data/weapon_kinds.json``) comes before the model's.

The weights live in a directory (``data/models/alert`` in the package, or ``WIREWATCH_ALERT_MODEL``),
written by ``wirewatch train alerts``; they are loaded once per process by :func:`load_alert_model`.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from . import lexicons
from .detector import KIND_RANK, KINDS, MODALITIES, DetectorConfig, SentenceCandidate, _Candidate, _kind_of, lexicon
from .learning.features import SparseRows, hashed_features, span_vector
from .learning.linear import LinearModel, ModelFileError
from .nlp import doc_text, token_columns

#: Bump when the features change: a model trained on other features is refused at load time.
FEATURE_VERSION = 1
BUNDLE_FORMAT = "wirewatch-alert-model/1"
BUNDLE_FILE = "alert_model.json"
PARTS = ("alert", "modality", "kind")
#: Representations the trainer compares; the chosen one is recorded in the bundle.
REPRESENTATIONS = ("rules", "rules+ngrams", "rules+ngrams+tok2vec")
TOK2VEC_WIDTH = 96  # en_core_web_sm 3.8's tok2vec output width
#: Rule reasons that are settings, not judgements: the model never overrides them.
POLICY_REASONS = frozenset({"non_state", "no_actor"})
ALERT_LABELS = ("no", "yes")

_DIGIT = re.compile(r"\d")


def shipped_model_dir() -> Path:
    return Path(str(files("wirewatch.agents") / "data" / "models" / "alert"))


# ------------------------------------------------------------------------------------------ weapon names


@cache
def _weapon_kind_patterns() -> list[tuple[str, re.Pattern[str]]]:
    kinds = lexicons.load("weapon_kinds.json")["kinds"]
    out = []
    for kind, names in kinds.items():
        if kind not in KIND_RANK:
            raise lexicons.LexiconError(f"weapon_kinds.json: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        parts = [r"[-\s]?".join(re.escape(p) for p in re.split(r"[-\s]+", n)) for n in names]
        parts.sort(key=len, reverse=True)
        out.append((kind, re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-]*\w)", re.IGNORECASE)))
    return out


lexicons.on_change(_weapon_kind_patterns.cache_clear)


def named_kind(text: str) -> str | None:
    """The kind of the missile systems ``text`` names ('Hwasong-15' → icbm); of several, the highest
    ranked (longer range and more specific first); None when it names none."""
    found = [kind for kind, rx in _weapon_kind_patterns() if rx.search(text)]
    return max(found, key=lambda k: KIND_RANK[k]) if found else None


# ------------------------------------------------------------------------------------------ features


def _words(span: Any) -> list[str]:
    cols = token_columns(span.doc)
    return [_DIGIT.sub("0", cols.lemma[i]) for i in range(span.start, span.end) if cols.lower[i].strip()]


def feature_strings(sc: SentenceCandidate, representation: str) -> list[str]:
    """The sparse features of a candidate sentence: the rules' signals, then (``+ngrams``) the sentence's
    words and word pairs and its neighbours' words, and the names of systems it mentions."""
    out = [f"r:{s}" for s in sc.signals]
    named = named_kind(doc_text(sc.sent.doc)[sc.sent.start_char : sc.sent.end_char])
    out.append(f"named:{named or 'none'}")
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
    return {"version": FEATURE_VERSION, "representation": representation, "hash_dim": dim, "dense": dense}


def candidate_rows(cands: Sequence[SentenceCandidate], spec: dict[str, Any]) -> SparseRows:
    """One feature row per candidate sentence, as ``spec`` (:func:`feature_spec`) lays them out."""
    dim = int(spec["hash_dim"])
    dense = list(spec.get("dense") or [])
    rows = SparseRows(dim, dense_widths=[TOK2VEC_WIDTH] * len(dense))
    for sc in cands:
        sparse = {
            c: float(np.sign(v) * np.log1p(abs(v)))
            for c, v in hashed_features(feature_strings(sc, spec["representation"]), dim).items()
        }
        rows.add(sparse, [span_vector(sc.sent) for _ in dense])
    return rows


# ------------------------------------------------------------------------------------------ the model


@dataclass
class AlertModel:
    """The three models of the decision and the article threshold on the alert probability."""

    alert: LinearModel
    modality: LinearModel
    kind: LinearModel
    threshold: float
    spec: dict[str, Any]

    def predict(self, rows: Any) -> tuple[np.ndarray, list[str], list[str]]:
        """(alert probability, modality, kind) per row."""
        p_alert = self.alert.predict_proba(rows)[:, ALERT_LABELS.index("yes")]
        modality = [self.modality.labels[i] for i in self.modality.predict_proba(rows).argmax(axis=1)]
        kind = [self.kind.labels[i] for i in self.kind.predict_proba(rows).argmax(axis=1)]
        return p_alert, modality, kind

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> None:
        directory = Path(directory)
        for part in PARTS:
            getattr(self, part).save(directory / f"{part}.npz")
        meta = {"format": BUNDLE_FORMAT, "threshold": self.threshold, "spec": self.spec, **(extra or {})}
        (directory / BUNDLE_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> AlertModel:
        """Every failure (missing directory or file, corrupt file, a model for other features) is a
        :class:`ModelFileError` naming the file."""
        directory = Path(directory)
        meta_path = directory / BUNDLE_FILE
        if not directory.is_dir():
            raise ModelFileError(f"alert model directory not found: {directory}")
        if not meta_path.is_file():
            raise ModelFileError(f"{meta_path} not found: not an alert model directory (wirewatch train alerts)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            spec, threshold = dict(meta["spec"]), float(meta["threshold"])
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f"{meta_path}: not a readable alert model file: {exc}") from exc
        if meta.get("format") != BUNDLE_FORMAT:
            raise ModelFileError(f"{meta_path}: format {meta.get('format')!r}, expected {BUNDLE_FORMAT!r}")
        if spec.get("version") != FEATURE_VERSION:
            raise ModelFileError(
                f"{meta_path}: built for alert features version {spec.get('version')!r}, this code computes"
                f" version {FEATURE_VERSION}: retrain it with `wirewatch train alerts`"
            )
        expected = {k: spec[k] for k in ("version", "representation", "hash_dim", "dense") if k in spec}
        parts = {part: LinearModel.load(directory / f"{part}.npz", spec=expected) for part in PARTS}
        if parts["alert"].labels != ALERT_LABELS:
            raise ModelFileError(f"{directory / 'alert.npz'}: labels {parts['alert'].labels}, expected {ALERT_LABELS}")
        for part, allowed in (("modality", MODALITIES), ("kind", KINDS)):
            unknown = set(parts[part].labels) - set(allowed)
            if unknown:
                raise ModelFileError(f"{directory / (part + '.npz')}: unknown labels {sorted(unknown)}")
        return cls(parts["alert"], parts["modality"], parts["kind"], threshold, spec)


@lru_cache(maxsize=4)
def load_alert_model(directory: str | None = None) -> AlertModel:
    """The alert model in ``directory`` (default: the shipped one), loaded once per process."""
    return AlertModel.load(directory or shipped_model_dir())


# ------------------------------------------------------------------------------------------ the decision


def decide(cands: Sequence[SentenceCandidate], model: AlertModel, config: DetectorConfig) -> None:
    """Score the candidate sentences and set the verdict on their rule candidates (in place)."""
    if not cands:
        return
    p_alert, modality, kind = model.predict(candidate_rows(cands, model.spec))
    apply_decision(cands, p_alert, modality, kind, model.threshold, config)


def apply_decision(
    cands: Sequence[SentenceCandidate],
    p_alert: Sequence[float],
    modality: Sequence[str],
    kind: Sequence[str],
    threshold: float,
    config: DetectorConfig,
) -> None:
    """A sentence alerts when its probability reaches ``threshold``: its rule-alertable candidates, or its
    first candidate when the rules suppress them all, take the model's modality, a kind (the named
    system's, the rules' specific one, or the model's) and the probability. A sentence below it leaves
    only suppressed candidates (reason ``model``). Settings (non-state rocket fire, unresolved actors)
    are applied as the rules do."""
    for sc, p, mod, predicted_kind in zip(cands, p_alert, modality, kind, strict=True):
        p = float(p)
        own = [c for c in sc.rule if not _rule_policy_decides(c, config)]
        if not own:
            continue
        if p >= threshold:
            ruled = [c for c in own if c.reason is None]
            chosen = ruled or [own[0]]
            sentence_kind = named_kind(doc_text(sc.sent.doc)[sc.sent.start_char : sc.sent.end_char])
            for c in chosen:
                rule_kind = _kind_of(c)
                c.reason = None
                c.modality = mod
                # the named system's kind, else a specific kind the rules read off the weapon words (by
                # grouped CV: kind accuracy 0.86 against 0.82 for the model's alone), else the model's
                specific = rule_kind if rule_kind != "ballistic_unspecified" else None
                c.kind_override = sentence_kind or specific or predicted_kind
                c.probability = p
        else:
            for c in own:
                if c.reason is None:
                    c.reason = "model"
                c.probability = p


def _rule_policy_decides(c: _Candidate, config: DetectorConfig) -> bool:
    """Candidates a setting decides: suppressed by a policy reason, or non-state rocket fire when the
    user asked to be alerted on it (WIREWATCH_ALERT_NON_STATE_ROCKETS)."""
    if c.reason in POLICY_REASONS:
        return True
    if c.reason is not None or not config.alert_non_state_rockets:
        return False
    info = lexicon().actors.get(c.actor or "")
    return info is not None and not info.state
