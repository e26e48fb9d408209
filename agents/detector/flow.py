"""The detector's flow, top to bottom: sentences → weapons and triggers → one candidate per trigger (actor,
speaker, modality, suppression) → candidate sentences with the rules' signals → the learned decision → the
findings merged per event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from ..alert_model import candidate_rows
from ..document import doc_cache, line_sentences, span_text
from ..nlp import TextMeta, analyze_each, entities_of
from ..published import published_month, reference_date
from .actors import PreviousActor, doc_states_of, headline_actors
from .assembly import apply_decision, assemble
from .candidates import (
    SentenceCandidate,
    TriggerCandidate,
    candidate_cue,
    event_triggers,
    trigger_pairs,
    trigger_tokens,
    weapons_in,
)
from .config import DetectorConfig, alert_model
from .dating import inherit_past_dates
from .kinds import named_kind
from .lexicon import lexicon
from .modality import negation_of, unconfirmed_report
from .records import Detection
from .rules import analyse_trigger, resolve_contested, share_weapon_actor, stand_in
from .signals import qualifier_signals, rule_signals
from .suppression import inherit_tested_thing


def detect(
    doc: Doc,
    entities: Sequence[Any] = (),
    *,
    meta: TextMeta | None = None,
    config: DetectorConfig | None = None,
) -> Detection:
    """Launch findings (alertable, merged per event) and every candidate signal of one parsed article.

    The rules find the candidate sentences and describe them; the learned alert model (see
    :mod:`wirewatch.agents.alert_model`) decides which alert, their modality and kind. With
    ``config.learned`` off the rules decide alone.
    """
    config = config or DetectorConfig()
    sentences = sentence_candidates(doc, entities, meta=meta, config=config)
    if config.learned and sentences:
        model = alert_model(config)
        apply_decision(
            sentences,
            *model.predict(candidate_rows(sentences, model.spec), [sc.index for sc in sentences]),
            model.threshold,
            config,
            model.distrusted_kinds,
        )
    return assemble(sentences, doc, entities, config)


def sentence_candidates(
    doc: Doc,
    entities: Sequence[Any] = (),
    *,
    meta: TextMeta | None = None,
    config: DetectorConfig | None = None,
) -> list[SentenceCandidate]:
    """Every sentence with a launch, missile or weapon cue, with the rules' candidates and signals. The
    article's ``meta`` dates it (its ``published_at``, else its address's date:
    :func:`wirewatch.agents.published.reference_date`) and, when the text names no actor, its headline (its
    title, else its address) names the article's main one."""
    config = config or DetectorConfig()
    meta = meta or TextMeta()
    lex = lexicon()
    doc_cache(doc)["entity_actors"] = [
        (int(e.start), int(e.end), lex.alias_to_actor[e.canonical])
        for e in entities
        if getattr(e, "canonical", None) in lex.alias_to_actor and getattr(e, "label", "") != "WEAPON"
    ]
    doc_states, dominant = doc_states_of(doc, entities)
    if dominant is None and (headline := headline_actors(meta.title, meta.url)):
        doc_states, dominant = doc_states | set(headline), headline[0]
    # the rules' year reading takes the feed's date alone: the address's year there cost precision by grouped CV
    feed_month = published_month(meta.published_at)
    pub_year = feed_month.year if feed_month is not None else None
    reference = published_month(reference_date(meta.published_at, meta.url))
    out: list[SentenceCandidate] = []
    previous = PreviousActor(doc_states)
    prev_speaker: str | None = None
    sents = list(line_sentences(doc))
    for index, sent in enumerate(sents):
        weapons = weapons_in(sent)
        cue = candidate_cue(sent) if not weapons else None
        if not weapons and cue is None:
            previous.push(sent)
            continue
        triggers = trigger_tokens(sent, weapons) if weapons else []
        contested = any(negation_of(t, sent) == "contested" for t in triggers) or unconfirmed_report(sent)
        triggers = event_triggers(triggers)
        args = (doc, entities, doc_states, dominant, previous, prev_speaker, pub_year, reference, config)
        sent_candidates: list[TriggerCandidate] = [
            analyse_trigger(trig, sent, ws, fallback, *args)
            for trig, ws, fallback in trigger_pairs(sent, triggers, weapons)
        ]
        resolve_contested(sent_candidates, contested)
        share_weapon_actor(sent_candidates)
        rule_made = bool(sent_candidates)
        if rule_made:
            named = [c.actor for c in sent_candidates if c.actor]
            if named:
                previous.set(named[0])
            else:
                previous.push(sent)
            speakers = [c.speaker for c in sent_candidates if c.speaker]
            if speakers:
                prev_speaker = speakers[0]
        else:
            # a cue the rules make nothing of: a stand-in candidate the model may still alert on. Its actor is
            # looked for before this sentence first, not in its own subject (the speaker of "Japan's defence
            # ministry confirmed the launch"); only when nothing before names one does its own sentence count
            anchor = cue or (triggers[0] if triggers else sent.doc[weapons[0].tokens[-1]].head)
            candidate = stand_in(anchor, sent, weapons, *args)
            previous.push(sent)
            if candidate.how == "none":
                candidate = stand_in(anchor, sent, weapons, *args)
            sent_candidates = [candidate]
        out.append(
            SentenceCandidate(
                sent=sent,
                index=index,
                rule=sent_candidates,
                signals=rule_signals(sent, sent_candidates, weapons, rule_made, index, pub_year),
                named_kind=named_kind(span_text(sent)),
                previous=sents[index - 1] if index > 0 else None,
                following=sents[index + 1] if index + 1 < len(sents) else None,
                qualifiers=qualifier_signals(sent, sent_candidates),
            )
        )
    inherit_past_dates(out)
    inherit_tested_thing(out)
    if any(c.reason is None for sc in out for c in sc.rule):
        for sc in out:
            sc.signals.append("doc_rule_alert")
    return out


def analyze_docs(
    nlp: Language,
    texts: Sequence[str],
    *,
    config: DetectorConfig | None = None,
    batch_size: int = 16,
    meta: Sequence[TextMeta] | None = None,
) -> list[tuple[list[Any], Detection]]:
    """Entities and detection per text, as the enrich agent computes them (``entities_of`` → :func:`detect`
    in the batch loop enrichment runs, :func:`..nlp.analyze_each`, without the stance tagger).
    ``meta``: each text's date, address and headline, when known."""

    def entities_and_detection(doc: Doc, known: TextMeta) -> tuple[list[Any], Detection]:
        entities = entities_of(doc)
        return entities, detect(doc, entities, meta=known, config=config)

    return analyze_each(nlp, texts, entities_and_detection, batch_size=batch_size, meta=meta)
