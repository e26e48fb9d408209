"""The rules' verdict on one trigger: its actor, speaker, modality, the reason it is suppressed (if it
is) and a rule score; plus the fix-ups across the candidates of one sentence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spacy.tokens import Doc, Span, Token

from ..document import span_text
from ..published import PublishedMonth
from .actors import (
    PreviousActor,
    actor_of_text,
    named_as_target_only,
    quoted_continuation,
    resolve_actor,
    speaker_of,
)
from .candidates import TriggerCandidate, WeaponMention
from .config import DetectorConfig
from .dating import dated_in_past
from .framing import framing_of
from .lexicon import lexicon
from .modality import capability_scope, conditional, historical, modality_of, negation_of, present_narrative
from .records import KIND_RANK, Reason
from .suppression import sentence_suppression, tested_thing


def analyse_trigger(
    trig: Token,
    sent: Span,
    ws: list[WeaponMention],
    fallback: bool,
    doc: Doc,
    entities: Sequence[Any],
    doc_states: set[str],
    dominant: str | None,
    previous: PreviousActor,
    prev_speaker: str | None,
    pub_year: int | None,
    reference: PublishedMonth | None,
    config: DetectorConfig,
) -> TriggerCandidate:
    lex = lexicon()
    offensive = [w for w in ws if not w.defence]
    kind = max((w.kind for w in offensive), key=lambda k: KIND_RANK[k], default="ballistic_unspecified")
    reason: str | None = None
    if not offensive:
        reason = Reason.MISSILE_DEFENCE if ws else Reason.NO_WEAPON
    actor, how = resolve_actor(trig, sent, offensive or ws, doc_states, previous)
    if how == "non_actor_subject" and reason is None:
        reason = Reason.NON_ACTOR_SUBJECT
    if actor is None and how != "non_actor_subject" and dominant in doc_states:
        # the article's main state, unless this sentence names it only as the target ('rockets hit Haifa')
        actor = None if named_as_target_only(sent, dominant, doc_states) else dominant
    speaker = speaker_of(trig, sent, doc, entities, prev_speaker)
    if speaker is None and quoted_continuation(sent):
        speaker = prev_speaker
    speaker_actor = actor_of_text(speaker)
    modality = modality_of(trig, sent, actor, speaker_actor)
    if modality == "threatened" and speaker_actor and how in ("none", "sentence", "previous"):
        # "Kim threatened to fire an ICBM over Japan, the North's news agency said": a threat reported
        # by the threatening side's own voice names its launcher
        actor, how = speaker_actor, "speaker"
        modality = modality_of(trig, sent, actor, speaker_actor)
    neg = negation_of(trig, sent)
    if neg is None and any(
        c.lower_ in ("no", "none") and c.dep_ == "det" for w in offensive for c in doc[w.tokens[-1]].children
    ):
        neg = "denied"  # "No missile was fired"
    if reason is None and neg is not None:
        reason = Reason.CONTESTED if neg == "contested" else (Reason.DENIED if neg == "denied" else Reason.NEGATED)
    if reason is None and conditional(trig, sent):
        reason = Reason.HYPOTHETICAL
    if reason is None and lex.res["capability_cues"].search(span_text(sent)) and capability_scope(trig, sent):
        reason = Reason.CAPABILITY
    if reason is None and modality == "occurred" and historical(trig, sent, pub_year):
        reason = Reason.HISTORICAL
    if reason is None and modality == "occurred" and present_narrative(trig, sent):
        reason = Reason.PRESENT_NARRATIVE
    tested = tested_thing(trig, ws)
    actor_info = lex.actors.get(actor) if actor else None
    if reason in (None, Reason.NON_ACTOR_SUBJECT):
        suppression = sentence_suppression(sent, kind, trig)
        if suppression == Reason.CIVILIAN_SPACE and actor_info is not None and actor_info.space_launch_counts:
            # "the window for a launch passed without word of a liftoff": a launch word civil copy uses too does not
            # make civil the launch of a state whose satellite launches are military
            suppression = None
        reason = suppression or reason
    if actor_info is not None and not actor_info.state:
        kind = "rocket_artillery"
        if reason is None and not config.alert_non_state_rockets:
            reason = Reason.NON_STATE
    if (
        kind == "space_launch_vehicle"
        and reason is None
        and actor_info is not None
        and not actor_info.space_launch_counts
    ):
        reason = Reason.CIVILIAN_SPACE
    if kind == "rocket_artillery" and actor_info is None and reason is None:
        reason = Reason.NO_STATE_ACTOR
    if actor is None and reason is None and not config.alert_unknown_actor:
        reason = Reason.NO_ACTOR
    score = lex.cues.rule_score
    confidence = score.base
    confidence += score.specific_kind if kind not in ("ballistic_unspecified", "rocket_artillery") else 0.0
    confidence += score.grammatical_actor if actor and how in _SCORED_HOWS else score.guessed_actor
    confidence -= score.fallback_pairing if fallback else 0.0
    confidence += score.past_tense_occurrence if modality == "occurred" and trig.tag_ in ("VBD", "VBN") else 0.0
    confidence = max(score.floor, min(score.ceiling, confidence))
    return TriggerCandidate(
        trig,
        sent,
        ws,
        modality,
        actor,
        reason,
        speaker,
        confidence,
        fallback,
        how,
        negation=neg,
        tested=tested,
        dated_past=dated_in_past(trig, sent, reference),
        framed=framing_of(trig),
    )


#: Ways of finding the actor that read it off the launch clause itself (not a guess from the sentence).
_GRAMMATICAL_HOWS = frozenset(
    {"subject", "modifier", "weapon_modifier", "by", "origin", "possessive", "speaker_pronoun", "system"}
)
#: The ways of them that earn the rule score's ``grammatical_actor`` bonus (the others score as guesses).
_SCORED_HOWS = frozenset({"subject", "modifier", "weapon_modifier", "by", "origin"})


def share_weapon_actor(cands: list[TriggerCandidate]) -> None:
    """Triggers about the same weapon mention ('a missile launched from X flew 800 km') are one event:
    a guessed actor gives way to one read off the grammar."""
    for c in cands:
        if c.how in _GRAMMATICAL_HOWS:
            continue
        starts = {w.start for w in c.weapons}
        donors = [d for d in cands if d is not c and d.how in _GRAMMATICAL_HOWS and d.actor]
        donor = next((d for d in donors if starts & {w.start for w in d.weapons}), None)
        if donor is not None and donor.actor != c.actor:
            c.actor, c.how = donor.actor, donor.how
            actor = lexicon().actors.get(donor.actor)
            if actor is not None and not actor.state and c.reason is None:
                c.reason = donor.reason


def resolve_contested(cands: list[TriggerCandidate], contested: bool) -> None:
    """One source says launch, another has no evidence: the launch is possible, not occurred."""
    if not contested and not any(c.reason == Reason.CONTESTED for c in cands):
        return
    for c in cands:
        if c.reason is None and c.modality == "occurred":
            c.modality = "possible"


def stand_in(anchor: Token, sent: Span, weapons: list[WeaponMention], *args: Any) -> TriggerCandidate:
    """The candidate of a cue sentence the rules made nothing of (anchored on its cue word, first trigger
    or weapon): shown only if the learned model alerts on it. ``args`` as for :func:`analyse_trigger`."""
    candidate = analyse_trigger(anchor, sent, weapons, True, *args)
    candidate.stand_in = True
    if candidate.reason is None:
        candidate.reason = Reason.NO_TRIGGER
    return candidate
