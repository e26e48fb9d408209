"""When a sentence frames a launch word as no launch that happened or is announced: a drill that rehearses one
('a citizen evacuation drill in preparation for a possible missile launch'), the consequence of a hypothetical one
('a missile launch at Guam could escalate into war'), what a missile can do when launched ('can reach 15,000 km when
launched'), a simulated one ('ran a test on the missiles using computer simulation'), a commemorated one ('the 50th
anniversary of the launch') or a habitual one ('these tests tended to take place in spring'). Read off the parse of
the launch word's own sentence; the words are data (``framed_launch`` in ``detector_cues.json``)."""

from __future__ import annotations

from spacy.tokens import Token

from .lexicon import FramedLaunch, lexicon
from .records import Reason

#: The suppression reason of a candidate by how its sentence frames it (:func:`framing_of`): a rehearsed launch is
#: a simulated one, the rules' hypothetical.
FRAMED_REASONS = {
    "rehearsal": Reason.HYPOTHETICAL,
    "hypothetical": Reason.HYPOTHETICAL,
    "capability": Reason.CAPABILITY,
    "simulated": Reason.HYPOTHETICAL,
    "past": Reason.HISTORICAL,
}
_NOUNS = ("NOUN", "PROPN")
_VERBS = ("VERB", "AUX")


def framing_of(trigger: Token) -> str | None:
    """``'rehearsal'``, ``'hypothetical'``, ``'capability'``, ``'simulated'`` or ``'past'`` when the sentence frames
    the launch ``trigger`` names as no launch (see the module's doc); else None."""
    rules = lexicon().cues.framed_launch
    if trigger.pos_ in _NOUNS and _rehearsed(trigger, rules):
        return "rehearsal"
    if trigger.pos_ in _NOUNS and _consequence_of_a_hypothetical(trigger, rules):
        return "hypothetical"
    if trigger.pos_ in _VERBS and _what_it_can_do(trigger, rules):
        return "capability"
    if trigger.pos_ in _NOUNS and _simulated(trigger, rules):
        # a launch noun only: a firing verb in a simulation is a real launch ("fired two missiles in a simulation
        # of a nuclear strike", as state media describe drills with live missiles)
        return "simulated"
    if trigger.pos_ in _NOUNS and (_commemorated(trigger, rules) or _habitual(trigger, rules)):
        return "past"
    return None


def _ancestors(tok: Token) -> list[Token]:
    out = []
    while tok.head.i != tok.i:
        tok = tok.head
        out.append(tok)
    return out


def _rehearsed(trigger: Token, rules: FramedLaunch) -> bool:
    """The launch noun hangs, through a preposition, below a verb whose subject or object is (or holds) a drill,
    and the way up passes a word of preparing for or being alerted to it: the drill rehearses the launch. A
    launch that is the drill's own object ('the exercise included the launch of two missiles') or what it
    answers ('an exercise in response to the launch') is no rehearsal."""
    below = trigger
    seen_rehearsal = False
    passed_prep = False
    for tok in _ancestors(trigger):
        seen_rehearsal = seen_rehearsal or tok.lemma_.lower() in rules.rehearsal_words
        passed_prep = passed_prep or tok.dep_ == "prep" or below.dep_ == "pobj"
        if tok.pos_ in _VERBS and seen_rehearsal and passed_prep:
            for child in tok.children:
                if child.i == below.i or child.dep_ not in ("nsubj", "nsubjpass", "dobj"):
                    continue
                if any(t.lemma_.lower() in rules.drill_nouns for t in child.subtree):
                    return True
        below = tok
    return False


def _consequence_of_a_hypothetical(trigger: Token, rules: FramedLaunch) -> bool:
    """An indefinite launch noun, subject of a modal verb that says what it would bring, not that it happens ('a
    missile launch could escalate into war'; not 'a launch could come next week')."""
    verb = trigger.head
    return (
        trigger.dep_ in ("nsubj", "nsubjpass")
        and any(c.dep_ == "det" and c.lower_ in rules.indefinite_determiners for c in trigger.children)
        and any(c.tag_ == "MD" and c.lower_ in rules.consequence_modals for c in verb.children)
        and verb.lemma_.lower() not in lexicon().cues.occurrence_light_verbs
    )


def _what_it_can_do(trigger: Token, rules: FramedLaunch) -> bool:
    """A launch verb opened by 'when' or 'if' in an adverbial clause of a verb under 'can': what a missile can do
    when launched ('the missile can reach 15,000 km when launched')."""
    return (
        trigger.dep_ == "advcl"
        and any(c.dep_ in ("mark", "advmod") and c.lower_ in rules.capability_marks for c in trigger.children)
        and any(c.tag_ == "MD" and c.lower_ in rules.capability_modals for c in trigger.head.children)
    )


def _simulated(trigger: Token, rules: FramedLaunch) -> bool:
    """A simulation noun in the launch noun's clause (the clause of the verb it hangs from), or a simulation
    modifier of the launch noun itself ('the simulated launch of an ICBM')."""
    if any(c.dep_ in ("amod", "compound") and c.lower_ in rules.simulation_modifiers for c in trigger.children):
        return True
    clause = next((t for t in _ancestors(trigger) if t.pos_ in _VERBS), trigger)
    return any(t.lemma_.lower() in rules.simulation_nouns for t in clause.subtree)


def _commemorated(trigger: Token, rules: FramedLaunch) -> bool:
    """The launch noun is the 'of' object of an anniversary ('celebrated the 50th anniversary of the launch')."""
    prep = trigger.head
    return trigger.dep_ == "pobj" and prep.lower_ == "of" and prep.head.lemma_.lower() in rules.commemorating_nouns


def _habitual(trigger: Token, rules: FramedLaunch) -> bool:
    """The launch noun is the subject of a verb of habit ('these missile tests tended to take place in spring')."""
    return trigger.dep_ in ("nsubj", "nsubjpass") and trigger.head.lemma_.lower() in rules.habitual_verbs


def aborted(trigger: Token) -> bool:
    """An abort verb governs the launch word ('aborted the launch', 'the launch was aborted'): the rules read it as
    stopped (negation_of's 'suppressed'), but an aborted launch occurred, as the labels count it."""
    return trigger.head.lemma_.lower() in lexicon().cues.framed_launch.aborted_verbs
