"""What the detector's rules read on a text (with the real spaCy pipeline), and what survives of it when the
learned decision is sure of every candidate: shared by the tests of the rules readings the model respects
(denials, tests of engines and defence weapons, launches dated to the past, capability talk)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from spacy.language import Language

from wirewatch.agents.detector import DetectorConfig, apply_decision, assemble, sentence_candidates
from wirewatch.agents.detector.candidates import SentenceCandidate, TriggerCandidate
from wirewatch.agents.detector.records import Detection, Finding
from wirewatch.agents.nlp import TextMeta, entities_of

RULES = DetectorConfig(learned=False)
T = TypeVar("T")


def rule_readings(
    nlp: Language,
    text: str,
    read: Callable[[TriggerCandidate, SentenceCandidate], T],
    published_at: str | None = None,
) -> dict[str, T]:
    """``read`` of each rule candidate, by its trigger word lower-cased (the last one wins)."""
    doc = nlp(text)
    candidates = sentence_candidates(doc, entities_of(doc), meta=TextMeta(published_at), config=RULES)
    return {c.trigger.lower_: read(c, sc) for sc in candidates for c in sc.rule}


def rule_reading(
    nlp: Language,
    text: str,
    trigger: str,
    read: Callable[[TriggerCandidate, SentenceCandidate], T],
    published_at: str | None = None,
) -> T:
    """``read`` of the rule candidate on ``trigger`` (in an article published at ``published_at``); it must
    exist."""
    found = rule_readings(nlp, text, read, published_at)
    assert trigger in found, f"no candidate on {trigger!r}: {found}"
    return found[trigger]


def findings_if_model_sure(nlp: Language, text: str) -> list[Finding]:
    """The findings when the learned decision calls every candidate an occurred launch at p 0.99: what is left
    out then was kept out by a rules reading the model must respect, not by the model's own doubt."""
    return detection_if_model_sure(nlp, text).findings


def detection_if_model_sure(nlp: Language, text: str, config: DetectorConfig = RULES) -> Detection:
    """The detection (findings and signals) when the learned decision calls every candidate an occurred launch
    at p 0.99, with the settings of ``config`` (the rules alone by default)."""
    doc = nlp(text)
    entities = entities_of(doc)
    candidates = sentence_candidates(doc, entities, config=config)
    n = len(candidates)
    apply_decision(candidates, [0.99] * n, ["occurred"] * n, ["ballistic_unspecified"] * n, 0.5, config)
    return assemble(candidates, doc, entities, config)
