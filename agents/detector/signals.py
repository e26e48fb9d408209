"""The rules' view of a candidate sentence as feature names, for the learned alert decision
(:mod:`wirewatch.agents.alert_model`)."""

from __future__ import annotations

from spacy.tokens import Span

from ..document import ents_in, span_text
from .candidates import TriggerCandidate, WeaponMention
from .clauses import is_headline
from .kinds import kind_of
from .lexicon import lexicon
from .modality import conditional, historical, negation_of, present_narrative
from .records import NOT_SUPPRESSED
from .suppression import doc_is_civil_space, sentence_suppression


def rule_signals(
    sent: Span,
    cands: list[TriggerCandidate],
    weapons: list[WeaponMention],
    rule_made: bool,
    index: int,
    pub_year: int | None,
) -> list[str]:
    """The rules' view of a candidate sentence as feature names: cue, reasons, modality, kind, actor,
    speaker, and the suppression tests each asked on its own (the rules stop at the first that holds)."""
    lex = lexicon()
    text = span_text(sent)
    out = [f"index:{min(index, 3)}", f"weapons:{min(len(weapons), 3)}", "rule" if rule_made else "no_rule"]
    out += [f"wkind:{w.kind}" for w in weapons if not w.defence]
    out += ["defence"] if any(w.defence for w in weapons) else []
    out += ["headline"] if is_headline(sent) else []
    out += sorted({f"ent:{e.label_}" for e in ents_in(sent)})
    out += ["doc_civil"] if doc_is_civil_space(sent.doc) else []
    for key in ("first_since", "historical_date", "capability_cues", "hypothetical_cues", "civil_space", "orbit_cue"):
        if lex.res[key].search(text):
            out.append(f"cue:{key}")
    for c in cands:
        actor = lex.actors.get(c.actor or "")
        who = "none" if c.actor is None else ("state" if actor is not None and actor.state else "non_state")
        reason = c.reason or NOT_SUPPRESSED
        kind = kind_of(c)
        trig = c.trigger
        out += [
            f"reason:{reason}",
            f"mod:{c.modality}",
            f"reason_mod:{reason}|{c.modality}",
            f"how:{c.how}",
            f"actor:{who}",
            f"kind:{kind}",
            f"kind_mod:{kind}|{c.modality}",
            f"trig:{trig.lemma_.lower()}",
            f"tag:{trig.tag_}",
        ]
        out += ["speaker"] if c.speaker else []
        out += ["fallback"] if c.via_fallback else []
        # the clause around the trigger: its role, its head, and the auxiliaries and modals (tense, mood)
        out += [
            f"dep:{trig.dep_}",
            f"head:{trig.head.lemma_.lower()}",
            f"trig_head:{trig.lemma_.lower()}|{trig.head.lemma_.lower()}",
        ]
        for tok in (trig, trig.head):
            out += [f"aux:{a.lower_}" for a in tok.children if a.dep_ in ("aux", "auxpass", "neg") or a.tag_ == "MD"]
        neg = negation_of(trig, sent)
        out += [f"neg:{neg}"] if neg else []
        out += ["conditional"] if conditional(trig, sent) else []
        out += ["historical"] if historical(trig, sent, pub_year) else []
        out += ["present_narrative"] if present_narrative(trig, sent) else []
        suppression = sentence_suppression(sent, kind, trig)
        out += [f"suppress:{suppression}"] if suppression else []
    return out
