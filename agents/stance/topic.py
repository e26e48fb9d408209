"""Stance stage 4b: the target a speaker's clauses are about when they name none (a learned detector).

A quote about "such actions" or "the operation" has a speaker but no target word: the rules' clause readings
(:func:`.readings.read_document`) find who speaks; this detector says which of the lexicon's targets the
speaker's sentences are about, from their lemma unigrams and bigrams and the targets the article names
anywhere (a launch named in the sentence before makes "such actions" a provocation). It is a multinomial
logistic regression over the lexicon's targets, trained by ``wirewatch train stance`` beside the polarity
model (``stance_topic.npz``); only its most probable target, at a probability of at least
:data:`MIN_PROBABILITY`, makes an implied pair (one per speaker).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from spacy.tokens import Doc

from ..document import evidence_span
from ..evidence import Evidence
from ..learning.features import SparseRows, hashed_features
from ..learning.linear import LinearModel
from .lexicon import Lexicon

HASH_DIM = 1 << 14
SPEC = {"features": "stance-topic", "version": 1, "hash_dim": HASH_DIM}
#: An implied pair needs the detector this sure of its target (the polarity model then decides its side).
MIN_PROBABILITY = 0.5


def topic_strings(doc: Doc, evidence: Iterable[Evidence], named_targets: Iterable[str], lex: Lexicon) -> list[str]:
    """The detector's features: words of the evidence sentences, and the targets the article names."""
    out = [f"named={t}" for t in sorted(set(named_targets))]
    for ev in dict.fromkeys(evidence):
        span = evidence_span(doc, ev)
        prev = "<s>"
        for tok in span or ():
            if tok.is_punct or tok.is_space:
                continue
            word = f"<{tok.ent_type_}>" if tok.ent_type_ in ("PERSON", "DATE", "CARDINAL") else tok.lemma_.lower()
            if word in lex.negators:
                word = "NOT"
            out.append(f"w={word}")
            out.append(f"b={prev}_{word}")
            prev = word
    return out


def topic_rows(strings: Sequence[list[str]]) -> SparseRows:
    rows = SparseRows(HASH_DIM)
    for s in strings:
        rows.add(hashed_features(s, HASH_DIM))
    return rows


def detect(model: LinearModel, strings: list[str]) -> tuple[str, float]:
    """The most probable target of one speaker's clauses, and its probability."""
    return detect_each(model, [strings])[0]


def detect_each(model: LinearModel, strings: Sequence[list[str]]) -> list[tuple[str, float]]:
    """:func:`detect` for several speakers at once (one matrix product: each row's sums are its own)."""
    if not strings:
        return []
    probabilities = model.predict_proba(topic_rows(strings))
    best = probabilities.argmax(axis=1).tolist()
    return [(model.labels[b], float(p[b])) for b, p in zip(best, probabilities, strict=True)]
