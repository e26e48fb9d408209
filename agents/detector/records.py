"""What the detector hands out: findings (alertable events), signals (every candidate, with the reason it
is suppressed) and the detection of one article; the taxonomy's kinds, ranks and families."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..evidence import Evidence
from ..taxonomy import TAXONOMY

KINDS = TAXONOMY.kind_names


MODALITIES = TAXONOMY.modality_names


MODALITY_RANK = TAXONOMY.modality_rank


SEVERITY_RANK = TAXONOMY.severity_rank


#: Which kind wins when one event is described with several: the more specific and longer-range first.
KIND_RANK = TAXONOMY.kind_rank


KIND_FAMILY = TAXONOMY.kind_family


UNKNOWN_ACTOR = "unknown"


class Reason:
    """Why a launch candidate is held back: the ``reason`` of a suppressed :class:`Signal`, also the rules'
    ``reason:`` features the alert model is trained on (:mod:`.signals`), so a value's text must not change
    while a shipped model reads it. :data:`SUPPRESSION_REASONS` lists them all."""

    # the rules' reading of the trigger's clause (:mod:`.rules`, :mod:`.modality`, :mod:`.dating`)
    DENIED = "denied"  # said not to have happened ("had not detected any launch"), or a false alarm
    NEGATED = "negated"  # urged, banned or avoided ("urged North Korea not to launch")
    CONTESTED = "contested"  # one source says launch, another has no evidence
    HYPOTHETICAL = "hypothetical"  # in an if/unless clause, a generic "any launch" or a simulated one
    CAPABILITY = "capability"  # "capable of launching": what a missile can do, not a launch
    HISTORICAL = "historical"  # a launch of the past, cited as context
    PRESENT_NARRATIVE = "present_narrative"  # present-tense narration outside a headline (fiction, scenarios)
    # the sentence's topic (:mod:`.suppression`); the last six are also the names of the lexicon's patterns
    FICTION_OR_HYPOTHETICAL = "fiction_or_hypothetical"
    MISSILE_DEFENCE = "missile_defence"  # an interceptor, a target missile, a missile-defence test
    CIVILIAN_SPACE = "civilian_space"
    ENGINE_TEST = "engine_test"
    PARADE = "parade"
    FIREWORKS = "fireworks"
    MODEL_ROCKET = "model_rocket"
    SPORTS = "sports"
    PRODUCT = "product"
    # what the candidate lacks
    NO_WEAPON = "no_weapon"  # a launch word with no weapon word
    NO_TRIGGER = "no_trigger"  # a weapon word with no launch word: a stand-in candidate
    NON_ACTOR_SUBJECT = "non_actor_subject"  # its subject is a common noun that is no actor ("students")
    NO_STATE_ACTOR = "no_state_actor"  # rocket fire with no actor on the watch list
    # the article's other findings
    REPEATED = "repeated"  # an unresolved actor's launch beside the same launch of a named actor (assembly)
    # settings (:data:`POLICY_REASONS`) and the learned decision
    NON_STATE = "non_state"  # an armed group's rocket fire, unless WIREWATCH_ALERT_NON_STATE_ROCKETS
    NO_ACTOR = "no_actor"  # no actor resolved, unless WIREWATCH_ALERT_UNKNOWN_ACTOR
    MODEL = "model"  # the learned model's probability is below the threshold


#: Every reason a suppressed candidate can carry (:class:`Reason`).
SUPPRESSION_REASONS: tuple[str, ...] = tuple(v for k, v in vars(Reason).items() if k.isupper())
#: Reasons that are settings, not judgements: the model never overrides them.
POLICY_REASONS = frozenset({Reason.NON_STATE, Reason.NO_ACTOR})
#: The ``reason:`` feature value of a candidate the rules do not hold back (no reason of its own).
NOT_SUPPRESSED = "alert"


def kind_family(kind: str) -> str:
    """The incident family of a kind (agents/data/taxonomy.json); an unknown kind is in the wildcard family."""
    return KIND_FAMILY.get(kind, TAXONOMY.wildcard_family)


default_severity = TAXONOMY.default_severity  # the taxonomy's per-kind, per-modality default


def empty_details() -> dict[str, Any]:
    return {
        "count": None,
        "range_km": None,
        "apogee_km": None,
        "location": None,
        "time_text": None,
        "weapon_name": None,
    }


@dataclass(frozen=True)
class Finding:
    """One alertable launch event in one article."""

    kind: str
    modality: str
    actor: str
    speaker: str | None
    details: dict[str, Any]
    severity: str
    confidence: float
    evidence: tuple[Evidence, ...]

    def __hash__(self) -> int:  # details is a dict: hash by the stable fingerprint instead
        return hash(self.fingerprint())

    def fingerprint(self) -> str:
        """Stable across runs and processes: the same article text gives the same fingerprint."""
        key = "|".join(
            [
                self.actor,
                kind_family(self.kind),
                self.modality,
                *(f"{e.start}:{e.end}:{e.text}" for e in self.evidence),
            ]
        )
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "modality": self.modality,
            "actor": self.actor,
            "speaker": self.speaker,
            "details": dict(self.details),
            "severity": self.severity,
            "confidence": round(self.confidence, 3),
            "evidence": [e.to_dict() for e in self.evidence],
            "fingerprint": self.fingerprint(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict`; extra keys (a signal's ``alertable``, ``reason``...) are ignored."""
        details = empty_details()
        details.update(data.get("details") or {})
        return cls(
            kind=str(data["kind"]),
            modality=str(data["modality"]),
            actor=str(data.get("actor") or UNKNOWN_ACTOR),
            speaker=data.get("speaker"),
            details=details,
            severity=str(data.get("severity") or default_severity(data["kind"], data["modality"])),
            confidence=float(data.get("confidence") or 0.0),
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence") or ()),
        )


@dataclass(frozen=True)
class Signal:
    """A detector candidate. Alertable signals are the (merged) findings; the others say why not."""

    finding: Finding
    alertable: bool
    reason: str | None = None
    trigger: str = ""

    def to_dict(self) -> dict[str, Any]:
        # A finding's dict plus the verdict, so consumers of news.enriched can rebuild the Finding.
        return {
            **self.finding.to_dict(),
            "alertable": self.alertable,
            "reason": self.reason,
            "trigger": self.trigger,
        }


@dataclass
class Detection:
    findings: list[Finding] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)

    def strongest(self) -> Finding | None:
        """The finding that ranks highest: modality (occurred > threatened > possible), then severity."""
        return max(self.findings, key=finding_rank, default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "signals": [s.to_dict() for s in self.signals],
        }


def finding_rank(finding: Finding) -> tuple[int, int, int, float]:
    return (
        MODALITY_RANK.get(finding.modality, 0),
        SEVERITY_RANK.get(finding.severity, 0),
        KIND_RANK.get(finding.kind, 0),
        finding.confidence,
    )
