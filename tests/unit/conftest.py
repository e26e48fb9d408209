"""Fixtures of the unit suite."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from spacy.language import Language

from wirewatch.agents.detector import DetectorConfig, apply_decision, assemble, sentence_candidates
from wirewatch.agents.detector.records import Finding
from wirewatch.agents.nlp import entities_of


@pytest.fixture
def findings_if_model_sure(nlp: Language) -> Callable[[str], list[Finding]]:
    """The findings on a text when the learned decision calls every candidate an occurred launch at p 0.99:
    what is left out then was kept out by a rules reading the model must respect (a denial, a test of an
    engine or a defence weapon), not by the model's own doubt."""

    def findings(text: str) -> list[Finding]:
        rules = DetectorConfig(learned=False)
        doc = nlp(text)
        entities = entities_of(doc)
        candidates = sentence_candidates(doc, entities, config=rules)
        n = len(candidates)
        apply_decision(candidates, [0.99] * n, ["occurred"] * n, ["ballistic_unspecified"] * n, 0.5, rules)
        return assemble(candidates, doc, entities, rules).findings

    return findings
