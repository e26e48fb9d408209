"""Stance stage 6, assembly: the stances of one doc, each pair's polarity decided by the learned model.

The stages (see the package's docstring): speakers and targets are found by the rules (:mod:`.speakers`,
:mod:`.targets`, :mod:`.readings`), which also read cues and evidence; :mod:`.pairs` groups their readings
into (speaker, target) pairs; :mod:`.features` turns a pair into features; :mod:`.model` decides favor /
against / neutral with a calibrated probability (``confidence``). A pair the model calls ``neutral`` is a
speaker who talks about the target without taking a side, or weighs both; a doc where the rules pair no one
with a target has no stances.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from spacy.tokens import Doc

from ..nlp import EntityMention
from .features import pair_rows
from .lexicon import Lexicon
from .model import StanceModel, current_model
from .pairs import find_pairs
from .records import Stance


def tag_stances(
    doc: Doc,
    entities: Sequence[EntityMention] = (),
    *,
    model: StanceModel | None = None,
    lexicon: Lexicon | None = None,
) -> list[Stance]:
    """One stance per (speaker, target) pair in ``doc``, in text order of the first evidence sentence.
    ``model`` defaults to the configured one. Call inside the memory zone that made ``doc``."""
    model = model or current_model()
    pairs = find_pairs(doc, entities, lexicon, model.topic)
    if not pairs:
        return []
    probs = model.linear.predict_proba(pair_rows(doc, pairs, model.config, lexicon))
    labels = model.linear.labels
    stances = []
    for pair, p in zip(pairs, probs, strict=True):
        best = int(np.argmax(p))
        stances.append(
            Stance(
                pair.speaker,
                pair.speaker_canonical,
                pair.affiliation,
                pair.target,
                labels[best],
                round(float(p[best]), 3),
                pair.evidence(),
            )
        )
    stances.sort(key=lambda s: (s.evidence[0].start if s.evidence else 0, s.speaker_canonical, s.target))
    return stances
