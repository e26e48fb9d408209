"""Candidates: the weapons a sentence names, its launch triggers, and which weapons each trigger is about.
Also the records of the candidate stage (a trigger's candidate, a candidate sentence)."""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Span, Token

from ..document import doc_memo, governing_verb, span_text, subtree_bounds
from ..nlp import token_columns
from .clauses import verb_subject
from .lexicon import lexicon


@dataclass(frozen=True)
class WeaponMention:
    kind: str
    start: int  # char offsets in the doc
    end: int
    text: str
    defence: bool
    tokens: tuple[int, ...]  # token indices


@dataclass
class TriggerCandidate:
    trigger: Token
    sent: Span
    weapons: list[WeaponMention]
    modality: str
    actor: str | None
    reason: str | None
    speaker: str | None
    confidence: float
    via_fallback: bool = False
    how: str = "none"
    #: set by the learned decision: the kind it chose (weapon map or model) and its calibrated probability
    kind_override: str | None = None
    probability: float | None = None
    #: made for a cue sentence the rules made no candidate of: shown only if the model alerts on it
    stand_in: bool = False
    #: how the rules read a negation of the trigger ('denied', 'contested', 'suppressed'; see modality.negation_of)
    negation: str | None = None
    #: what the trigger itself tests or launches when that is no alertable launch ('engine', 'defence', 'other':
    #: no weapon at all; see suppression.tested_thing)
    tested: str | None = None
    #: the sentence dates the launch to the past ('last fired ... in April', 'since 2017'; see dating.dated_in_past)
    dated_past: bool = False
    #: the sentence frames the launch as none that happened or is announced ('rehearsal', 'hypothetical',
    #: 'capability', 'simulated', 'past'; see framing.framing_of)
    framed: str | None = None


@dataclass
class SentenceCandidate:
    """A sentence with a launch, missile or weapon cue: what the learned decision scores.

    ``rule`` are the rules' trigger-level candidates in it (each with the reason the rules suppress it, if
    they do); a sentence with a cue but no trigger/weapon pair has one stand-in candidate instead, with the
    reason ``no_trigger`` or ``no_weapon``. ``signals`` are the rules' findings as feature names;
    ``qualifiers`` the rules' readings that qualify a launch (who tells it, hedges outside its clause, its flight
    figures), read by the modality and kind models only.
    """

    sent: Span
    index: int  # position among the article's sentences
    rule: list[TriggerCandidate]
    signals: list[str]
    named_kind: str | None = None  # the kind of the missile system the sentence names (weapon_kinds.json)
    previous: Span | None = None
    following: Span | None = None
    qualifiers: list[str] = field(default_factory=list)


def weapons_in(sent: Span) -> list[WeaponMention]:
    """Weapon mentions in a sentence, longest match first, non-overlapping (defence systems included)."""
    memo = doc_memo(sent.doc, "weapons")
    key = (sent.start, sent.end)
    if key not in memo:
        memo[key] = find_weapons(sent)
    return list(memo[key])


def find_weapons(sent: Span) -> list[WeaponMention]:
    lex = lexicon()
    text, base = span_text(sent), sent.start_char
    # most sentences name no weapon: word look-ups pick the few patterns worth a scan, often none
    maybe = lex.weapon_prefixes.candidates(text) if lex.weapon_prefixes is not None else None
    if maybe is not None and not maybe:
        return []
    found: list[tuple[int, int, str, bool]] = []
    if maybe is None or 0 in maybe:
        for m in lex.defence.finditer(text):
            found.append((m.start(), m.end(), "defence", True))
    for index, (kind, rx) in enumerate(lex.weapons, 1):
        if maybe is not None and index not in maybe:
            continue
        for m in rx.finditer(text):
            found.append((m.start(), m.end(), kind, False))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    chosen: list[tuple[int, int, str, bool]] = []
    for f in sorted(found, key=lambda f: -(f[1] - f[0])):
        if all(f[1] <= c[0] or f[0] >= c[1] for c in chosen):
            chosen.append(f)
    out = []
    for s, e, kind, defence in merge_generic_heads(sorted(chosen), text):
        span = sent.doc.char_span(base + s, base + e, alignment_mode="expand")
        if span is None:
            continue
        if not defence and figurative(span.root):
            continue  # "called the launch a missile aimed at the market leader"
        # "an intermediate-range ballistic missile target" is a defence-test target, not a launch
        nxt = sent.doc[span.end] if span.end < sent.end else None
        if nxt is not None and nxt.lower_ in lex.cues.defence_target_nouns and not defence:
            defence = True
        out.append(WeaponMention(kind, base + s, base + e, text[s:e], defence, tuple(t.i for t in span)))
    return out


def figurative(head: Token) -> bool:
    """A weapon noun used as a figure for something that is no weapon: the second object of a naming verb
    ('called the plan a missile'), or the object of 'like' / 'as' ('rose like a rocket', 'described the
    budget as a missile'). Naming a weapon ('called the Hwasong-18 its best missile') is literal."""
    cues = lexicon().cues
    verbs = set(cues.figurative_verbs)
    gov = head.head
    if head.dep_ == "pobj" and gov.lower_ in cues.figurative_preps:
        if gov.lower_ == "like":
            return True
        gov = gov.head
    elif head.dep_ not in ("oprd", "dobj"):
        return False
    if gov.lemma_.lower() not in verbs:
        return False
    named = [c for c in gov.children if c.dep_ in ("dobj", "nsubjpass") and c.i != head.i and c.i < head.i]
    if not named and head.dep_ == "dobj":
        return False  # a single object: "saw the missile"
    lex = lexicon()
    for obj in named:
        text = " ".join(t.text for t in obj.subtree)
        if obj.pos_ == "PRON" or obj.tag_ in ("WDT", "WP") or lex.defence.search(text):
            return False  # "which officials describe as a hypersonic weapon": the thing named is the weapon
        if any(rx.search(text) for _k, rx in lex.weapons):
            return False
    return bool(named) or head.dep_ == "oprd"


def merge_generic_heads(mentions: list[tuple[int, int, str, bool]], text: str) -> list[tuple[int, int, str, bool]]:
    """'Minuteman III' + 'missile', 'Patriot' + 'missiles': a named system and the generic noun it
    modifies are one mention of the system's kind."""
    out: list[tuple[int, int, str, bool]] = []
    for m in mentions:
        if out:
            s, e, kind, defence = out[-1]
            generic = m[2] in ("ballistic_unspecified", "rocket_artillery") and not m[3]
            if generic and not text[e : m[0]].strip() and lexicon().generic_head.fullmatch(text[m[0] : m[1]]):
                out[-1] = (s, m[1], kind, defence)
                continue
        out.append(m)
    return out


def trigger_tokens(sent: Span, weapons: list[WeaponMention]) -> list[Token]:
    lex = lexicon()
    sets = lex.cues
    doc = sent.doc
    cols = token_columns(doc)  # every word of the sentence is looked at: columns, not Token objects
    lemmas, lowers, poses, tags, deps, heads, kids = (
        cols.lemma,
        cols.lower,
        cols.pos,
        cols.tag,
        cols.dep,
        cols.heads,
        cols.children,
    )
    weapon_tokens = {i for w in weapons for i in w.tokens}
    # "put three satellites into orbit": a launch told by its result
    orbit_verbs = sets.orbit_verbs if lex.res["orbit_cue"].search(span_text(sent)) else frozenset()
    # "hit back with missiles", "respond with missile launches": the weapon sits in a with-phrase
    retaliation = {
        heads[t]
        for t in range(sent.start, sent.end)
        if deps[t] == "prep"
        and lowers[t] == "with"
        and lemmas[heads[t]] in sets.retaliation_verbs
        and any(doc[t].left_edge.i <= i <= doc[t].right_edge.i for i in weapon_tokens)
    }
    verb_triggers, noun_triggers = sets.verb_triggers, sets.noun_triggers
    out = []
    for i in range(sent.start, sent.end):
        lemma = lemmas[i]
        text = lowers[i]
        if poses[i] in ("VERB", "AUX") or tags[i].startswith("VB"):
            if lemma in verb_triggers or text in verb_triggers or lemma in orbit_verbs or i in retaliation:
                if i in weapon_tokens:
                    continue
                if lemma not in sets.weapon_subject_only_verbs and any(
                    deps[c] == "prt" and lowers[c] == "down" for c in kids[i]
                ):
                    continue  # "shoot down" is an interception; "the missile splashed down" is its flight's end
                out.append(doc[i])
        elif poses[i] in ("NOUN", "PROPN"):
            if lemma not in noun_triggers and text not in noun_triggers:
                continue
            if i in weapon_tokens:
                continue
            if deps[i] == "compound" and lemmas[heads[i]] not in sets.compound_launch_heads_kept:
                continue  # "launch pad", "launch site": not an event
            if lemma == "flight" and not any(lowers[c] in sets.flight_needs_compound for c in kids[i]):
                continue
            out.append(doc[i])
    return out


def weapons_for(
    trigger: Token, sent: Span, weapons: list[WeaponMention], n_triggers: int
) -> tuple[list[WeaponMention], bool]:
    """Weapons the trigger is about: in its subtree, its subject, or its governing verb's arguments."""
    lex = lexicon()
    cues = lex.cues
    lemma = trigger.lemma_.lower()

    def within(lo: int, hi: int, exclude: tuple[int, int] | None = None) -> list[WeaponMention]:
        out = []
        for w in weapons:
            if any(lo <= i < hi for i in w.tokens):
                if exclude and all(exclude[0] <= i < exclude[1] for i in w.tokens):
                    continue
                out.append(w)
        return out

    if trigger.pos_ in ("VERB", "AUX") or trigger.tag_.startswith("VB"):
        subj = verb_subject(trigger)
        if lemma in cues.weapon_subject_only_verbs:
            return (within(*subtree_bounds(subj)) if subj is not None else []), False
        if lemma in cues.retaliation_verbs and lemma not in cues.verb_triggers:
            withs = [c for c in trigger.children if c.dep_ == "prep" and c.lower_ == "with"]
            return dedupe_mentions([w for c in withs for w in within(*subtree_bounds(c))]), False
        if lemma in cues.orbit_verbs and lemma not in cues.verb_triggers:
            objs = [c for c in trigger.children if c.dep_ in ("dobj", "prep")]
            found = [w for c in objs for w in within(*subtree_bounds(c)) if w.kind == "space_launch_vehicle"]
            return dedupe_mentions(found), False
        if lemma in cues.verbs_needing_weapon_object:
            objs = [c for c in trigger.children if c.dep_ in ("dobj", "prep")]
            found = [w for c in objs for w in within(*subtree_bounds(c))]
            head = trigger.head
            if not found and trigger.dep_ in ("xcomp", "advcl") and head.lemma_.lower() in cues.tool_verbs:
                # "used ATACMS missiles to strike an air base": the weapon is the tool verb's object
                found = [w for c in head.children if c.dep_ == "dobj" for w in within(*subtree_bounds(c))]
            return found, False
        # the verb's own arguments, not its clausal complements (another event's weapons)
        found = []
        for child in trigger.children:
            # another event's clause, except a free relative ("fired what was apparently an ICBM")
            clause = child.dep_ in ("ccomp", "advcl", "conj", "relcl", "parataxis") and child.pos_ in (
                "VERB",
                "AUX",
            )
            if clause and not any(t.lower_ == "what" for t in child.subtree if t.i < child.i):
                continue
            found.extend(within(*subtree_bounds(child)))
        found.extend(within(trigger.i, trigger.i + 1))
        if not found and subj is not None and subj.i != trigger.i:
            found = within(*subtree_bounds(subj))
        if not found and trigger.dep_ in ("acl", "relcl", "amod"):
            found = within(trigger.head.i, trigger.head.i + 1)  # "test-fired missiles" parsed as a modifier
        if found:
            return dedupe_mentions(found), False
    else:
        found = within(*subtree_bounds(trigger))
        if lemma in cues.noun_triggers_needing_compound_weapon:
            found = [w for w in found if w.tokens and all(i < trigger.i for i in w.tokens)]
            purpose = trigger.head if trigger.dep_ == "pobj" and trigger.head.lower_ == "for" else None
            if not found and purpose is not None and purpose.head.pos_ in ("VERB", "AUX"):
                # "stockpiling missiles for a strike": the weapon is the object of the verb it serves
                verb = purpose.head
                found = [w for c in verb.children if c.dep_ == "dobj" for w in within(*subtree_bounds(c))]
            return found, False
        if trigger.dep_ == "conj" and trigger.head.pos_ in ("NOUN", "PROPN"):
            found += within(*subtree_bounds(trigger.head))  # "an ICBM or satellite rocket launch"
        if not found and trigger.dep_ == "compound":
            found = within(*subtree_bounds(trigger.head))
        if not found:
            gov = governing_verb(trigger, sent)
            if gov is not None and gov.lemma_.lower() in cues.occurrence_light_verbs:
                for child in gov.children:
                    if child.dep_ in ("nsubj", "nsubjpass", "dobj", "attr"):
                        found.extend(within(*subtree_bounds(child)))
        if found:
            return dedupe_mentions(found), False
    if n_triggers == 1:
        near = sorted(weapons, key=lambda w: abs(w.tokens[0] - trigger.i))
        return near[:1], True
    return [], False


def dedupe_mentions(ws: list[WeaponMention]) -> list[WeaponMention]:
    seen, out = set(), []
    for w in ws:
        if w.start not in seen:
            seen.add(w.start)
            out.append(w)
    return out


def candidate_cue(sent: Span) -> Token | None:
    """The first launch word in a sentence that names no weapon ('The launch took place on Tuesday')."""
    sets = lexicon().cues
    words = sets.verb_triggers | sets.noun_triggers | sets.candidate_cues
    cols = token_columns(sent.doc)
    for i in range(sent.start, sent.end):
        if cols.lemma[i] in words or cols.lower[i] in words:
            return sent.doc[i]
    return None


def event_triggers(triggers: list[Token]) -> list[Token]:
    """The triggers that stand for an event of their own: a noun inside a verb trigger's relative clause
    ("missiles launched in a test") is that verb's event."""
    verbs = [t for t in triggers if t.pos_ in ("VERB", "AUX") or t.tag_.startswith("VB")]
    return [
        t
        for t in triggers
        if t in verbs or not any(t.left_edge.i <= v.i <= t.right_edge.i and v.dep_ in ("acl", "relcl") for v in verbs)
    ]


def trigger_pairs(
    sent: Span, triggers: list[Token], weapons: list[WeaponMention]
) -> list[tuple[Token, list[WeaponMention], bool]]:
    """Each trigger with the weapons it is about and whether they were paired by proximity only; triggers
    about no weapon are left out."""
    pairs = [(trig, *weapons_for(trig, sent, weapons, len(triggers))) for trig in triggers]
    if triggers and not any(ws for _t, ws, _f in pairs):
        # the parse linked no trigger to a weapon (it happens on odd parses): take the closest pair
        trig = min(triggers, key=lambda t: min(abs(t.i - w.tokens[0]) for w in weapons))
        pairs = [(trig, *weapons_for(trig, sent, weapons, 1))]
    return [(trig, ws, fallback) for trig, ws, fallback in pairs if ws]
