"""Signals of a candidate sentence that separate a current launch from its look-alikes, read off the parse.

The rules (the detector) say whether a sentence names a launch; the false alarms of the learned decision are
sentences whose launch words are real but whose launch is not current or not a launch: launches cited as
history, denials and false alerts, interceptor and engine tests, activity seen at a launch site, and states
that observe (detect, confirm, report) someone else's launch. These features name such shapes in general
terms (a time expression, the tense and aspect of the sentence's verbs, a cue word family, the grammatical
role of the states the sentence names), never a particular labelled passage.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUMBER_WORDS = "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|dozens|many|multiple"

#: Families of cue words, each a feature ``cue3:NAME`` when the sentence matches it.
CUE_FAMILIES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        # time
        "year": r"\b(?:19[4-9]\d|20[0-4]\d)\b",
        "in_year": r"\b(?:in|since|until|by|from|of|during)\s+(?:(?:early|late|mid-?)\s*)?(?:19|20)\d\d\b",
        "decade": r"\b(?:19|20)\d0s\b|\bdecades?\b",
        "since": r"\bsince\b",
        "ago": r"\bago\b",
        "last_period": r"\b(?:last|previous|past)\s+(?:year|month|summer|winter|spring|autumn|fall|decade)\b",
        "earlier_this": r"\bearlier\s+this\s+(?:year|month)\b|\bthis\s+year\b",
        "month_name": rf"\b(?:{_MONTHS})\b",
        "weekday": rf"\b(?:{_WEEKDAYS})\b",
        "today": r"\b(?:today|tonight|yesterday|this morning|this afternoon|this evening|hours? (?:ago|later)|"
        r"early\s+(?:on\s+)?(?:{_WEEKDAYS}))\b".replace("{_WEEKDAYS}", _WEEKDAYS),
        "count_of_launches": rf"\b(?:\d+|{_NUMBER_WORDS})(?:th|st|nd|rd)?\s+(?:\w+\s+){{0,3}}"
        r"(?:launch(?:es)?|tests?|firings?)\s+(?:this|since|so far)\b|\bso far this year\b",
        "first_ever": r"\bfirst[- ]ever\b|\bfor the first time\b|\bhistor(?:y|ic)\b|\banniversary\b",
        # denial and false alarms
        "false_alarm": r"\bfalse\s+(?:alarm|alert|report)s?\b|\bby mistake\b|\bmistaken(?:ly)?\b|\berroneous(?:ly)?\b"
        r"|\bretract(?:ed|s)?\b|\baccidental(?:ly)?\b|\bin error\b",
        "denial": r"\bden(?:y|ies|ied|ial)\b|\brumou?rs?\b|\bno (?:evidence|sign|indication)s?\b"
        r"|\bnot (?:detect|confirm)|\bbaseless\b|\bunfounded\b|\bfabricat",
        # tests that are not a launch of a missile at someone
        "defence_test": r"\bintercept(?:or|ors|ed|ion|s)?\b|\btarget missile\b|\bshot down\b|\bshoot down\b"
        r"|\bmissile[- ]defen[cs]e\b|\bTHAAD\b|\bAegis\b|\bPatriot\b|\bIron Dome\b|\bS-[34]00\b",
        "engine_test": r"\bengines?\b|\bstatic[- ]fire\b|\bhot[- ]fire\b|\bground (?:test|jet)\b|\bcombustion\b"
        r"|\bthrust\b|\bmotor test\b|\bsolid[- ]fuel(?:led)? motor\b",
        "preparation": r"\bsatellite (?:images?|imagery|photos?|pictures?)\b|\bimagery\b|\bactivity\b|\bpreparations?\b"
        r"|\bpreparing\b|\bmovements?\b|\bsigns? of\b|\bappears? to\b|\bcould be\b|\bready to\b",
        "capability": r"\bcapable of\b|\bcapabilit(?:y|ies)\b|\brange of\b|\bcan (?:reach|hit|strike|carry)\b"
        r"|\bdeploy(?:ed|s|ment)?\b|\barsenal\b|\bdevelop(?:ing|ment|ed|s)?\b|\bprogram(?:me)?s?\b",
        "policy": r"\bsanctions?\b|\bresolutions?\b|\bSecurity Council\b|\btreaty\b|\bmoratorium\b|\btalks\b"
        r"|\bagreement\b|\bdiplomac|\bnegotiat",
        "observer_verb": r"\b(?:detected|confirmed|tracked|monitored|observed|spotted|condemned|protested)\b",
        "toward": r"\b(?:toward|towards|into the sea|off the coast|landed in|fell in|splashed down|over)\b",
    }.items()
}

#: Verbs whose subject watches or talks about a launch rather than making it.
OBSERVER_VERBS = frozenset(
    {
        *("detect", "confirm", "report", "say", "track", "monitor", "observe", "spot", "condemn", "protest"),
        *("warn", "announce", "tell", "state", "believe", "assess", "analyze", "analyse", "estimate", "show"),
        "reveal",
    }
)
#: Verbs whose subject makes the launch.
LAUNCH_VERBS = frozenset(["launch", "fire", "test", "conduct", "carry", "fly", "send", "shoot", "lob"])
_ACTOR_LABELS = frozenset({"GPE", "NORP", "ORG"})
_TOWARD_PREPS = frozenset({"toward", "towards", "at", "into", "over", "near", "off", "against"})


def _verb_aspect(tok: Token) -> list[str]:
    """Tense and aspect of a verb: past, present, perfect (has/have + participle), pluperfect (had + ...),
    future or modal (will, would, could...), progressive, passive."""
    out = []
    tense = tok.morph.get("Tense")
    if tense:
        out.append(f"tense:{tense[0].lower()}")
    auxes = [a for a in tok.children if a.dep_ in ("aux", "auxpass")]
    lowers = {a.lower_ for a in auxes}
    if lowers & {"has", "have", "'ve", "'s"} and tok.tag_ == "VBN":
        out.append("aspect:perfect")
    if "had" in lowers and tok.tag_ == "VBN":
        out.append("aspect:pluperfect")
    if any(a.tag_ == "MD" for a in auxes):
        out.append("aspect:modal")
    if tok.tag_ == "VBG" and auxes:
        out.append("aspect:progressive")
    if any(a.dep_ == "auxpass" for a in auxes):
        out.append("aspect:passive")
    return out


def _actor_roles(sent: Span) -> set[str]:
    """The grammatical roles of the states and organisations the sentence names: subject of a launch verb
    (the launcher), subject of a detect/confirm/report verb (an observer), the object of 'toward', 'at',
    'into'... (a target), inside the subject of the main verb, or elsewhere."""
    roles: set[str] = set()
    for ent in sent.ents:
        if ent.label_ not in _ACTOR_LABELS:
            continue
        root = ent.root
        # climb from a possessor or compound to the noun it modifies ("Japan's defence ministry")
        head = root
        while head.dep_ in ("poss", "compound", "amod", "nmod") and head.head is not head:
            head = head.head
        if head.dep_ in ("nsubj", "nsubjpass"):
            verb = head.head.lemma_.lower()
            if verb in OBSERVER_VERBS:
                roles.add("actor_role:observer_subject")
            elif verb in LAUNCH_VERBS:
                roles.add("actor_role:launch_subject")
            else:
                roles.add("actor_role:other_subject")
        elif head.dep_ == "pobj" and head.head.lower_ in _TOWARD_PREPS:
            roles.add("actor_role:target")
        elif head.dep_ == "pobj" and head.head.lower_ == "by":
            roles.add("actor_role:agent")
        elif head.dep_ == "pobj" and head.head.lower_ in ("from", "of"):
            roles.add(f"actor_role:{head.head.lower_}")
        else:
            roles.add("actor_role:other")
    return roles


def context_strings(sent: Span) -> list[str]:
    """The sentence's context features: cue families, the tense and aspect of its root and of its launch
    verbs, the roles of its actors, and whether 'launch' only modifies another noun ('launch site')."""
    text = sent.text
    out = [f"cue3:{name}" for name, rx in CUE_FAMILIES.items() if rx.search(text)]
    root = sent.root
    out += [f"root_{f}" for f in _verb_aspect(root)]
    out.append(f"root_lemma:{root.lemma_.lower()}")
    for tok in sent:
        lemma = tok.lemma_.lower()
        if lemma in LAUNCH_VERBS and tok.pos_ in ("VERB", "AUX"):
            out += [f"launch_{f}" for f in _verb_aspect(tok)]
            subj = next((c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            out.append(f"launch_subj:{subj.ent_type_ or subj.pos_ if subj is not None else 'none'}")
        if lemma == "launch" and tok.dep_ in ("compound", "amod"):
            out.append(f"launch_modifies:{tok.head.lemma_.lower()}")
        if lemma in OBSERVER_VERBS and tok.pos_ == "VERB":
            obj = [c for c in tok.children if c.dep_ in ("dobj", "ccomp")]
            if obj:
                out.append(f"observed_{obj[0].dep_}")
    out += sorted(_actor_roles(sent))
    return sorted(set(out))
