"""The rules' view of a candidate sentence as feature names, for the learned alert decision
(:mod:`wirewatch.agents.alert_model`)."""

from __future__ import annotations

from spacy.tokens import Span, Token

from ..document import ents_in, span_text
from .actors import actor_of_text
from .candidates import TriggerCandidate, WeaponMention
from .clauses import clause_chain, is_headline
from .details import distances
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
        kind = kind_of(c, classes=False)
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


def qualifier_signals(sent: Span, cands: list[TriggerCandidate]) -> list[str]:
    """What qualifies the launch of a candidate sentence, as feature names for the modality and kind models only
    (the alert model lost precision and recall with them: see the model card): the voice that tells each
    candidate, the modality cues outside its clause, the sentence's flight figures."""
    out = figure_signals(sent)
    for c in cands:
        out.append(f"voice:{voice_of(c)}")
        out += [f"outside_mod:{cue}" for cue in modality_cues_outside(c.trigger, sent)]
    return sorted(set(out))


def voice_of(c: TriggerCandidate) -> str:
    """Whose voice tells the launch: the launcher's own ('own': "North Korea said it will launch"), another
    party's ('other': "Pakistan is planning a test, Indian intelligence sources said"), or no speaker's
    ('none'). An announced launch is threatened in the launcher's voice, possible in another's."""
    speaker_actor = actor_of_text(c.speaker)
    if speaker_actor is None:
        return "none"
    return "own" if speaker_actor == c.actor else "other"


def modality_cues_outside(trigger: Token, sent: Span) -> list[str]:
    """The modality cue families (``detector_cues.json``: possible_lemmas, threat_lemmas, modal_possible,
    modal_future) of the sentence's words outside the trigger's clause spine: "fuel trucks left the site,
    indicating that a launch might be near", "the navy announced a firing exercise and warned ships away from
    the missile test area"; the rules' modality reads the launch's own clause only."""
    cues = lexicon().cues
    spine = {t.i for t in clause_chain(trigger, sent)}
    families = (("possible", cues.possible_lemmas), ("threat", cues.threat_lemmas))  # the lexicon's frozensets
    found: set[str] = set()
    for tok in sent:
        if tok.i in spine:
            continue
        lemma = tok.lemma_.lower()
        found.update(name for name, lemmas in families if lemma in lemmas)
        if tok.tag_ == "MD":
            if tok.lower_ in cues.modal_possible:
                found.add("modal_possible")
            elif tok.lower_ in cues.modal_future or lemma in cues.modal_future:
                found.add("modal_future")
    return sorted(found)


#: Bounds (km) of the flight figures' bins: a range or an apogee that says which class of missile flew
#: ("rose to an altitude of 6,000 km": an intercontinental missile on a lofted path).
FIGURE_BINS_KM = (300, 1000, 3000, 5500)


def figure_signals(sent: Span) -> list[str]:
    """The sentence's flight figures as binned signals: ``range_km:1000-3000``, ``apogee_km:5500+``."""
    out = []
    for name, km in zip(("range_km", "apogee_km"), distances(sent), strict=True):
        if km is None:
            continue
        lower = max((b for b in FIGURE_BINS_KM if km >= b), default=0)
        upper = min((b for b in FIGURE_BINS_KM if km < b), default=None)
        out.append(f"{name}:{lower}-{upper}" if upper is not None else f"{name}:{lower}+")
    return out
