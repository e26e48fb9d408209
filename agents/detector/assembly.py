"""The decision applied and the findings assembled: the model's verdicts set on the candidates, the
policy settings kept, same-event candidates merged into findings, the rest kept as signals."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

from spacy.tokens import Doc

from ..document import evidence_sentence
from ..evidence import Evidence
from .candidates import SentenceCandidate, TriggerCandidate
from .config import DetectorConfig
from .details import distances, launch_count, location_of, time_text, weapon_name
from .framing import FRAMED_REASONS, aborted
from .kinds import kind_of, kind_sources
from .lexicon import lexicon
from .records import (
    KIND_RANK,
    POLICY_REASONS,
    UNKNOWN_ACTOR,
    Detection,
    Finding,
    Reason,
    Signal,
    empty_details,
    kind_family,
)
from .suppression import TESTED_REASONS

# Besides the policy reasons, the model never overrides these readings of the rules (rules_deny):
# - the rules' denial, a launch said not to have happened (negated in its own clause: "had not detected any
#   missile launch"), or a false alarm: by grouped CV, this veto took precision from 0.812 to 0.820 at recall
#   0.860 to 0.858 once the negation's reach was read off the parse;
# - the rules' reading of capability talk ('missiles able to fly at twenty times the speed of sound ... will
#   enter service next year'): by grouped CV, precision +0.002 [+0.000, +0.006], no true passage lost;
# - a launch urged, banned or stopped ('will stop launches of ICBMs'), and one its sentence frames as no launch
#   (a drill's rehearsal, a hypothetical's consequence, what a missile can do, a simulation: see framing.py);
# - in a sentence that names no weapon, launch words that all launch something else ('launched an inquiry',
#   'the drones were launched': suppression.tested_thing's 'other'): precision +0.005 [+0.000, +0.012];
# - in a sentence that names no weapon, a word for a class of acts ('avoid further provocations':
#   category_triggers, tested_thing's 'other' too): no labelled passage moved, and the seed article's
#   provocation talk raises nothing.
# And the non-state setting holds back an armed group's candidate whatever its reason (policy_decides).

#: How a suppressed candidate's signal reads in place of its modality: denied, historical (else its modality).
SHOWN_MODALITY = {
    Reason.DENIED: "denied",
    Reason.NEGATED: "denied",
    Reason.CONTESTED: "denied",
    Reason.HISTORICAL: "historical",
}


def apply_decision(
    sentences: Sequence[SentenceCandidate],
    p_alert: Sequence[float],
    modality: Sequence[str],
    kind: Sequence[str],
    threshold: float,
    config: DetectorConfig,
    distrusted_kinds: Collection[str] = (),
) -> None:
    """Set the model's verdicts on the candidates (in place). A sentence alerts when its probability reaches
    ``threshold``: its rule-alertable candidates, or its first candidate when the rules suppress them all,
    take the model's modality, a kind (the named system's, the rules' specific one, or the model's) and
    the probability. A sentence below it leaves only suppressed candidates (reason ``model``). Settings
    (non-state rocket fire, unresolved actors) are applied as the rules do, and so are the rules' denials
    (:func:`rules_deny`). ``distrusted_kinds``: kind
    sources (``named:srbm``... see :func:`kind_sources`) the model's training found at odds with the
    labels; the next source, or the model's kind, is taken instead."""
    described = neighbour_kinds(sentences, distrusted_kinds)
    for sc, p, mod, predicted_kind, near_kind in zip(sentences, p_alert, modality, kind, described, strict=True):
        p = float(p)
        for c in sc.rule:  # ruled out below (rules_deny): such a candidate must not stand as the rules' alert
            if c.reason is None and c.tested in TESTED_REASONS:
                c.reason = TESTED_REASONS[c.tested]
            if c.reason is None and c.dated_past:
                c.reason = Reason.HISTORICAL  # the rules' own word for a launch dated to the past
            if c.reason is None and c.framed is not None:
                c.reason = FRAMED_REASONS[c.framed]
        own = [c for c in sc.rule if not (policy_decides(c, config) or rules_deny(c))]
        if not own:
            continue
        if p >= threshold:
            ruled = [c for c in own if c.reason is None]
            for c in ruled or [own[0]]:
                # the named system's kind, else a specific kind the rules read off the weapon words (by
                # grouped CV: kind accuracy 0.86 against 0.82 for the model's alone), else the model's
                trusted = [k for source, k in kind_sources(sc, c) if f"{source}:{k}" not in distrusted_kinds]
                c.reason = None
                c.modality = mod
                c.kind_override = trusted[0] if trusted else near_kind or predicted_kind
                c.probability = p
        else:
            for c in own:
                if c.reason is None:
                    c.reason = Reason.MODEL
                c.probability = p


#: How far, in sentences, a sentence that names a system without telling a launch of its own describes a launch.
DESCRIBING_WINDOW = 1


def neighbour_kinds(sentences: Sequence[SentenceCandidate], distrusted_kinds: Collection[str] = ()) -> list[str | None]:
    """Per candidate sentence, the kind a sentence next to it gives before the model (its named system, its
    specific weapon words or its flight figures, :func:`kind_sources`) when that sentence tells no launch of its
    own (no rule-made candidate): it describes the launch beside it ("... launched two new missiles. They were
    identified as DF-26 intermediate-range ballistic missiles.", "The missile has a range of 13,000 km"). Read
    before any verdict is set (a verdict sets the kind)."""
    given: list[tuple[int, str]] = []
    for sc in sentences:
        if "no_rule" not in sc.signals:
            continue
        kinds = [k for c in sc.rule for source, k in kind_sources(sc, c) if f"{source}:{k}" not in distrusted_kinds]
        if kinds:
            given.append((sc.index, kinds[0]))
    out: list[str | None] = []
    for sc in sentences:
        near = [(abs(i - sc.index), k) for i, k in given if i != sc.index and abs(i - sc.index) <= DESCRIBING_WINDOW]
        out.append(min(near)[1] if near else None)
    return out


def rules_deny(c: TriggerCandidate) -> bool:
    """The rules read the candidate as denied (its own negation, or a false alarm), as a test of an engine
    or a missile-defence weapon or a launch of no weapon at all, read off the trigger's own arguments
    (:func:`.suppression.tested_thing`; with no weapon named, a word for a class of acts such as 'provocations'
    is one), as a launch its sentence dates to the past (:func:`.dating.dated_in_past`), as capability talk, as
    a launch urged, banned or stopped, or as one its sentence frames as no launch (:func:`.framing.framing_of`):
    no probability alerts it."""
    return (
        # negation_of's readings: denied (the word the rules' reason copies), or urged, banned or stopped (not aborted)
        c.negation == Reason.DENIED
        or (c.negation == "suppressed" and not aborted(c.trigger))
        or c.framed is not None
        or c.reason in (Reason.DENIED, Reason.CAPABILITY)
        or c.tested is not None
        or c.dated_past
    )


def policy_decides(c: TriggerCandidate, config: DetectorConfig) -> bool:
    """Candidates a setting decides, not the model: those suppressed by a policy reason; with
    WIREWATCH_ALERT_NON_STATE_ROCKETS off, every candidate of an armed group, whatever else the rules say of it
    ('Hezbollah fired at the town': no weapon named); with it on, an armed group's rocket fire the rules
    hold back for nothing else (it alerts)."""
    if c.reason in POLICY_REASONS:
        return True
    info = lexicon().actors.get(c.actor or "")
    non_state = info is not None and not info.state
    if not config.alert_non_state_rockets:
        return non_state
    return c.reason is None and non_state


def assemble(
    sentences: Sequence[SentenceCandidate], doc: Doc, entities: Sequence[Any], config: DetectorConfig
) -> Detection:
    """The detection of decided candidate sentences: findings merged per event, and the signals."""
    # a stand-in the model did not alert on is no signal: the rules never saw a launch there
    cands = [c for sc in sentences for c in sc.rule if not (c.stand_in and c.reason is not None)]
    return assemble_candidates(cands, doc, entities, config)


def assemble_candidates(
    cands: list[TriggerCandidate], doc: Doc, entities: Sequence[Any], config: DetectorConfig
) -> Detection:
    """Merge same-event candidates (actor, kind family, modality) into findings; keep the rest as signals."""
    groups: list[list[TriggerCandidate]] = []
    suppressed: list[TriggerCandidate] = []
    for c in cands:
        if c.reason is not None:
            suppressed.append(c)
            continue
        placed = False
        for g in groups:
            if same_event(g, c):
                g.append(c)
                placed = True
                break
        if not placed:
            groups.append([c])
    # groups under the minimum confidence make no finding; a repeat is one of a finding that stands
    standing = [
        (g, f)
        for g, f in ((g, finding_of(g, entities, config)) for g in groups)
        if f.confidence >= config.min_confidence
    ]
    kept, repeated = _split_repeats([g for g, _f in standing])
    for c in repeated:
        c.reason = Reason.REPEATED
    suppressed += repeated
    findings = [f for g, f in standing if any(g is k for k in kept)]
    findings.sort(key=lambda f: f.evidence[0].start)
    signals = [Signal(f, True, None, "") for f in findings]
    for c in suppressed:
        finding = finding_of([c], entities, config)
        finding = replace(finding, modality=SHOWN_MODALITY.get(c.reason or "", finding.modality))
        signals.append(Signal(finding, False, c.reason, c.trigger.text))
    return Detection(findings=findings, signals=signals)


def _split_repeats(groups: list[list[TriggerCandidate]]) -> tuple[list[list[TriggerCandidate]], list[TriggerCandidate]]:
    """(the groups that stand as findings, the candidates of those that repeat one): a group whose actor is
    unresolved repeats the article's group of a named actor that it matches but for the actor (same modality
    and kind family). An article's launch told again without its actor ("the launch took place at dawn",
    "resumed missile tests") is either that launch or background to it, never a second event the article
    names; a second alert with an unknown actor would only repeat, or misread, the first."""
    named = [g for g in groups if g[0].actor]
    kept: list[list[TriggerCandidate]] = []
    repeated: list[TriggerCandidate] = []
    for g in groups:
        if not g[0].actor and any(all(same_event(n, c, any_actor=True) for c in g) for n in named):
            repeated += g
        else:
            kept.append(g)
    return kept, repeated


def same_event(group: list[TriggerCandidate], c: TriggerCandidate, *, any_actor: bool = False) -> bool:
    """``c`` tells the launch of ``group``: the same actor (unless ``any_actor``), modality and kind family."""
    head = group[0]
    if (not any_actor and (head.actor or "") != (c.actor or "")) or head.modality != c.modality:
        return False
    families = {kind_family(kind_of(x)) for x in group}
    fam = kind_family(kind_of(c))
    if fam in families or fam == "ballistic_unspecified":
        return True
    ballistic = {"long_range", "short_range"}
    return families <= {"ballistic_unspecified"} and fam in ballistic | {"ballistic_unspecified"}


def finding_of(group: list[TriggerCandidate], entities: Sequence[Any], config: DetectorConfig) -> Finding:
    kind = max((kind_of(c) for c in group), key=lambda k: KIND_RANK[k])
    first = group[0]
    modality = first.modality
    details = empty_details()
    for c in group:
        ws = [w for w in c.weapons if not w.defence]
        rng, apogee = distances(c.sent)
        found = {
            "count": launch_count(ws, c.sent.doc) if modality == "occurred" else None,
            "range_km": rng,
            "apogee_km": apogee,
            "location": location_of(c.trigger, ws, c.sent),
            "time_text": time_text(c.trigger, c.sent),
            "weapon_name": weapon_name(ws, c.sent, entities),
        }
        for key, value in found.items():
            if details[key] is None and value is not None:
                details[key] = value
    evidence: list[Evidence] = []
    for c in group:
        ev = evidence_sentence(c.sent, c.trigger)
        if ev not in evidence:
            evidence.append(ev)
    speaker = next((c.speaker for c in group if c.speaker), None) if modality != "occurred" else None
    # the model's calibrated probability when it decided (no bonus per sentence), else the rules' score
    probabilities = [c.probability for c in group if c.probability is not None]
    rule_score = max(c.confidence for c in group) + 0.05 * (len(evidence) - 1)
    confidence = max(probabilities) if probabilities else rule_score
    return Finding(
        kind=kind,
        modality=modality,
        actor=first.actor or UNKNOWN_ACTOR,
        speaker=speaker,
        details=details,
        severity=config.severity(kind, modality),
        confidence=round(min(0.99, confidence), 3),
        evidence=tuple(evidence),
    )
