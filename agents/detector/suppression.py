"""Sentence-level suppressions: fiction, false alarms, missile-defence tests, engine tests and parades,
fireworks and products, civilian space launches; and what a trigger itself tests or launches (an engine on
the ground, a missile-defence weapon or a target missile)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from spacy.tokens import Doc, Span, Token

from ..document import doc_cache, span_text
from ..nlp import doc_text
from .candidates import SentenceCandidate, WeaponMention
from .dating import refers_back
from .lexicon import lexicon
from .records import Reason


def doc_is_civil_space(doc: Doc) -> bool:
    cache = doc_cache(doc)
    if "civil" not in cache:
        res = lexicon().res
        cache["civil"] = bool(
            res["civil_space"].search(doc_text(doc))
            and not res["military_context_overrides_civil"].search(doc_text(doc))
        )
    return bool(cache["civil"])


def _in_sibling_clause(match: re.Match[str], sent: Span, trigger: Token) -> bool:
    """The cue sits in a conjunct coordinated with the trigger's ('could stage a parade or test-fire a
    missile', 'the engine test and the launch'): it describes another event."""
    span = sent.doc.char_span(sent.start_char + match.start(), sent.start_char + match.end(), alignment_mode="expand")
    if span is None:
        return False
    conj_children = [c for c in trigger.children if c.dep_ == "conj"]
    own = {t.i for t in trigger.subtree} - {t.i for c in conj_children for t in c.subtree}
    if any(t.i in own for t in span):
        return False
    in_conj_child = any(t.i in {x.i for c in conj_children for x in c.subtree} for t in span)
    in_conj_head = trigger.dep_ == "conj" and all(t.i in {x.i for x in trigger.head.subtree} for t in span)
    return in_conj_child or in_conj_head


def sentence_suppression(sent: Span, kind: str, trigger: Token | None = None) -> str | None:
    lex = lexicon()
    res = lex.res
    text = span_text(sent)
    if res["fiction"].search(text) or res["hypothetical_cues"].search(text):
        return Reason.FICTION_OR_HYPOTHETICAL
    if res["false_alarm"].search(text):
        return Reason.DENIED
    if res["intercept_test"].search(text):
        return Reason.MISSILE_DEFENCE
    for key in (Reason.ENGINE_TEST, Reason.PARADE):  # the reason is also the name of its pattern
        m = res[key].search(text)
        if m and not (trigger is not None and _in_sibling_clause(m, sent, trigger)):
            return key
    kinds = lex.cues.suppression_kinds
    if kind in kinds.civil_cues:
        for key in (Reason.FIREWORKS, Reason.MODEL_ROCKET, Reason.SPORTS, Reason.PRODUCT):
            if res[key].search(text) and not res["military_context_overrides_civil"].search(text):
                return key
    if (
        kind in kinds.civil_space_sentence
        and res["civil_space"].search(text)
        and not res["military_context_overrides_civil"].search(text)
    ):
        return Reason.CIVILIAN_SPACE
    if kind in kinds.civil_space_article and doc_is_civil_space(sent.doc):
        return Reason.CIVILIAN_SPACE
    return None


#: The suppression reason of a trigger that tests an engine or launches a missile-defence weapon or target
#: (:func:`tested_thing`). Its third reading, 'other' (no weapon at all), is only ever a stand-in's, which
#: already carries the reason it names no weapon: a veto (``rules_deny``), not a reason of its own.
TESTED_REASONS = {"engine": Reason.ENGINE_TEST, "defence": Reason.MISSILE_DEFENCE}


def _launched_things(trigger: Token) -> list[Token]:
    """The words that say what the trigger launches, fires or tests: a verb's object, its passive subject or
    the subject of a verb with no object ('an interceptor blasted off'); a noun's modifiers and its 'of'
    object ('the test of a rocket engine'); for a trigger that modifies a noun ('static firing test'), that
    noun's modifiers too."""
    heads = [trigger]
    if trigger.dep_ in ("compound", "amod") and trigger.head.pos_ == "NOUN":
        heads.append(trigger.head)
    things: list[Token] = []
    for head in heads:
        has_object = any(c.dep_ == "dobj" for c in head.children)
        for c in head.children:
            if c.dep_ in ("dobj", "nsubjpass", "compound", "amod") or (
                c.dep_ == "nsubj" and head.pos_ == "VERB" and not has_object
            ):
                things.append(c)
            elif c.dep_ == "prep" and c.lower_ == "of":
                things += [g for g in c.children if g.dep_ == "pobj"]
    return [t for t in things if t is not trigger]


def tested_thing(trigger: Token, weapons: list[WeaponMention]) -> str | None:
    """``'engine'`` when the trigger fires or tests an engine or motor, or is a static or ground test ('tested a
    solid-fuel motor', 'engine combustion tests', 'the static firing test'); ``'defence'`` when what it
    launches or tests is a missile-defence weapon or a target missile ('an interceptor blasted off', 'a
    target missile was launched', 'will test its Patriot system'), or the only weapons it has are such;
    ``'other'`` when no weapon is named and the trigger launches something else (:func:`_launches_something_else`)
    or names a class of acts rather than a launch (``category_triggers``: 'avoid further provocations');
    else None. Read off the trigger's own arguments, so 'launch a satellite, having tested engines for it'
    is neither."""
    cues = lexicon().cues
    things = _launched_things(trigger)
    for t in things:
        if t.dep_ == "nsubj":
            continue  # an engine that acts ('the engine exploded in flight') is no engine under test
        lemma = t.lemma_.lower()
        if lemma in cues.ground_test_nouns or (t.dep_ in ("amod", "compound") and lemma in cues.ground_test_modifiers):
            return "engine"
    if weapons and all(w.defence for w in weapons):
        return "defence"  # the only weapons it has are missile-defence weapons: nothing offensive is launched
    defence = {i for w in weapons if w.defence for i in w.tokens}
    if any(t.i in defence for t in things):
        return "defence"
    if not weapons and (trigger.lemma_.lower() in cues.category_triggers or _launches_something_else(trigger)):
        # a word for a class of acts ('further provocations') with no weapon named launches nothing in particular
        return "other"
    return None


def inherit_tested_thing(sentences: Sequence[SentenceCandidate]) -> None:
    """A test a neighbouring sentence tells the nature of ('Engineers ran the test at the coastal site. The
    ground test of the new motor lasted a minute'): when every candidate of a sentence is a stand-in on a launch
    word that names no weapon and refers back ('the test', 'it was launched': :func:`.dating.refers_back`), and
    every candidate of the sentence before or after it tests an engine or a missile-defence weapon by its own
    reading (:func:`tested_thing`, read before any sentence inherits one), its candidates test the same (in
    place). Not for a word for an attack ('the attack' beside 'air defences shot down 30 missiles' is the
    attack they met)."""
    cues = lexicon().cues
    launch_words = (cues.noun_triggers | cues.verb_triggers) - (
        cues.noun_triggers_needing_compound_weapon | cues.verbs_needing_weapon_object
    )
    words = cues.dated_launch.reference_words
    own = {sc.index: {c.tested for c in sc.rule} for sc in sentences}
    for sc in sentences:
        if not sc.rule or not all(
            c.stand_in
            and c.tested is None
            and not c.weapons
            and c.trigger.lemma_.lower() in launch_words
            and refers_back(c.trigger, words)
            for c in sc.rule
        ):
            continue
        for tested in (own.get(sc.index - 1, set()), own.get(sc.index + 1, set())):
            if len(tested) == 1 and (thing := next(iter(tested))) in TESTED_REASONS:
                for c in sc.rule:
                    c.tested = thing
                break


def _launches_something_else(trigger: Token) -> bool:
    """Every launch word of a sentence that names no weapon is a launch verb whose object (or passive subject)
    is a common noun that no launch launches: 'launched an investigation', 'fired a broadside', 'fired 100 rounds
    of artillery', 'the drones were launched'. A pronoun, number or name as its object ('launched it', 'fired
    two', 'fired a second', 'launched Kwangmyongsong') may be the weapon, and so may a launch or cue noun or one
    of ``launched_nouns``, or what its 'of' names ('a wave of strikes'); any other launch word in the sentence
    ('launched an inquiry into the launch', 'launched an inquiry after the North fired two') may tell a launch.
    A verb whose object is its target ('struck a base') is not read."""
    cues = lexicon().cues
    launch_verbs = cues.verb_triggers - cues.verbs_needing_weapon_object
    launchable = cues.noun_triggers | cues.candidate_cues | cues.launched_nouns
    launch_nouns = cues.noun_triggers | cues.candidate_cues

    def names_something_else(noun: Token) -> bool:
        named = [g for c in noun.children if c.dep_ == "prep" and c.lower_ == "of" for g in c.children]
        named = [g for g in named if g.dep_ == "pobj"]
        if noun.like_num or noun.ent_type_ in ("ORDINAL", "CARDINAL"):
            # "fired two", "a second"; "hundreds of balloons" names what the number counts
            return bool(named) and all(names_something_else(g) for g in named)
        if noun.pos_ != "NOUN" or noun.lemma_.lower() in launchable or noun.lower_ in launchable:
            return False
        return not any(not names_something_else(g) for g in named)

    def is_launch_word(word: Token) -> bool:
        if word.pos_ in ("VERB", "AUX"):
            return word.lemma_.lower() in cues.verb_triggers
        return word.lemma_.lower() in launch_nouns or word.lower_ in launch_nouns

    def launches_something_else(word: Token) -> bool:
        if word.lemma_.lower() not in launch_verbs:
            return False
        objects = [c for c in word.children if c.dep_ in ("dobj", "nsubjpass")]
        return bool(objects) and all(names_something_else(o) for o in objects)

    words = [t for t in trigger.sent if is_launch_word(t)]
    return launches_something_else(trigger) and all(launches_something_else(t) for t in words)
