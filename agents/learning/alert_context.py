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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from .. import lexicons
from ..document import ents_in, span_text
from ..nlp import token_columns
from ..typed_data import Pattern, read_record

if TYPE_CHECKING:
    from spacy.tokens import Span, Token


@dataclass(frozen=True)
class ContextCues:
    """``data/alert_context.json``: the cue families (a feature ``cue3:NAME`` when the sentence matches),
    the verbs whose subject observes a launch or makes it, the entity labels of states and organisations,
    and the prepositions whose object is a target."""

    cue_families: Mapping[str, Pattern]
    observer_verbs: frozenset[str]
    launch_verbs: frozenset[str]
    actor_labels: frozenset[str]
    toward_preps: frozenset[str]


def parse_context_cues(data: Any, where: str = "alert_context.json") -> ContextCues:
    """The context cues as typed data; a bad entry (unknown or missing key, wrong type, a regular expression
    that does not compile) is refused with its name."""
    return read_record(ContextCues, data, where)


@cache
def context_cues() -> tuple[ContextCues, tuple[tuple[str, re.Pattern[str]], ...]]:
    """The shipped context cues and their compiled cue families, read once. Not extended by the user's
    lexicon directory: these are the trained model's features, changed only with a retrained model."""
    cues = parse_context_cues(lexicons.shipped("alert_context.json"))
    return cues, tuple((name, re.compile(rx, re.IGNORECASE)) for name, rx in cues.cue_families.items())


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
    cues, _families = context_cues()
    roles: set[str] = set()
    for ent in ents_in(sent):  # not Span.ents: it rebuilds every entity of the document on each call
        if ent.label_ not in cues.actor_labels:
            continue
        root = ent.root
        # climb from a possessor or compound to the noun it modifies ("Japan's defence ministry")
        head = root
        while head.dep_ in ("poss", "compound", "amod", "nmod") and head.head is not head:
            head = head.head
        if head.dep_ in ("nsubj", "nsubjpass"):
            verb = head.head.lemma_.lower()
            if verb in cues.observer_verbs:
                roles.add("actor_role:observer_subject")
            elif verb in cues.launch_verbs:
                roles.add("actor_role:launch_subject")
            else:
                roles.add("actor_role:other_subject")
        elif head.dep_ == "pobj" and head.head.lower_ in cues.toward_preps:
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
    cues, families = context_cues()
    text = span_text(sent)
    out = [f"cue3:{name}" for name, rx in families if rx.search(text)]
    root = sent.root
    out += [f"root_{f}" for f in _verb_aspect(root)]
    out.append(f"root_lemma:{root.lemma_.lower()}")
    cols = token_columns(sent.doc)
    for i in range(sent.start, sent.end):
        lemma = cols.lemma[i]  # the doc's columns: a Token object only for the few words that are cues
        if lemma not in cues.launch_verbs and lemma not in cues.observer_verbs and lemma != "launch":
            continue
        tok = sent.doc[i]
        if lemma in cues.launch_verbs and tok.pos_ in ("VERB", "AUX"):
            out += [f"launch_{f}" for f in _verb_aspect(tok)]
            subj = next((c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            out.append(f"launch_subj:{subj.ent_type_ or subj.pos_ if subj is not None else 'none'}")
        if lemma == "launch" and tok.dep_ in ("compound", "amod"):
            out.append(f"launch_modifies:{tok.head.lemma_.lower()}")
        if lemma in cues.observer_verbs and tok.pos_ == "VERB":
            obj = [c for c in tok.children if c.dep_ in ("dobj", "ccomp")]
            if obj:
                out.append(f"observed_{obj[0].dep_}")
    out += sorted(_actor_roles(sent))
    return sorted(set(out))
