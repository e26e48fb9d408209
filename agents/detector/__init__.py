"""The provocation-alert detector: sentences of a parsed article in, launch findings out.

Pure logic, no Kafka. A *signal* is every launch candidate the detector sees (with the reason it is
suppressed, if it is); a *finding* is an alertable signal after the candidates of one article that
describe the same event are merged. The rules are data: cue lists and patterns in
``data/detector_cues.json``, the watch list of actors in ``data/actors.json``, missile systems in
``data/weapon_kinds.json``, read into typed records by :mod:`.lexicon`; extend those, not the code.

The stages, each a module with one job (:mod:`.flow` runs them, top to bottom, in :func:`detect`):

- :mod:`.lexicon` the rules as typed data; :mod:`.prefilter` the cheap word look-ups that skip patterns
  that cannot match
- :mod:`.candidates` weapons, launch triggers and candidate sentences; :mod:`.clauses` the clause spine
  of a trigger (up to the speech verb)
- :mod:`.actors` who launched (subject, modifiers, origin, datelines, the previous sentence) and who says so
- :mod:`.modality` negation, conditions, history, modality; :mod:`.suppression` the sentence-level tests
  (fiction, parades, civil space...) and what a trigger itself tests or launches (an engine, an interceptor)
- :mod:`.dating` whether a trigger's own sentence dates its launch to the past ('last fired ... in April')
- :mod:`.rules` the rules' verdict on one trigger; :mod:`.kinds` its kind; :mod:`.signals` the rules'
  view of a sentence as features for the learned model (:mod:`wirewatch.agents.alert_model`)
- :mod:`.details` count, range and apogee, location, time, weapon name
- :mod:`.assembly` the model's decision applied, policy settings, findings merged per event
- :mod:`.records` findings, signals, detections; :mod:`.config` the settings and the alert model

Document helpers that are not about launches (subject of a verb, speaker with affiliation, evidence
sentence, per-document memo) live in :mod:`wirewatch.agents.document`.
"""

from __future__ import annotations

from ..evidence import Evidence
from .assembly import apply_decision, assemble
from .candidates import SentenceCandidate
from .config import DetectorConfig, alert_model
from .flow import analyze_docs, detect, sentence_candidates
from .kinds import kind_sources, named_kind
from .lexicon import lexicon
from .records import (
    KIND_FAMILY,
    KIND_RANK,
    KINDS,
    MODALITIES,
    MODALITY_RANK,
    NOT_SUPPRESSED,
    POLICY_REASONS,
    SEVERITY_RANK,
    SUPPRESSION_REASONS,
    UNKNOWN_ACTOR,
    Detection,
    Finding,
    Reason,
    Signal,
    default_severity,
    finding_rank,
    kind_family,
)

__all__ = [
    "KINDS",
    "KIND_FAMILY",
    "KIND_RANK",
    "MODALITIES",
    "MODALITY_RANK",
    "NOT_SUPPRESSED",
    "POLICY_REASONS",
    "SEVERITY_RANK",
    "SUPPRESSION_REASONS",
    "UNKNOWN_ACTOR",
    "Detection",
    "DetectorConfig",
    "Evidence",
    "Finding",
    "Reason",
    "SentenceCandidate",
    "Signal",
    "alert_model",
    "analyze_docs",
    "apply_decision",
    "assemble",
    "default_severity",
    "detect",
    "finding_rank",
    "kind_family",
    "kind_sources",
    "lexicon",
    "named_kind",
    "sentence_candidates",
]
