"""When a launch word is dated to the past in its own sentence: 'the army last fired rockets across the border in
April', 'the agency has not launched a satellite since its failure six years ago', 'May 2009: the navy test-fires a
cruise missile'. A news passage that cites an earlier launch as context is no alert; one that reports a launch of
the last few days is, even beside an older date ('on Tuesday, its first launch since March'). The reading uses the
sentence alone (no publication date): the tense of 'last fired', a 'since' date or a span ('years ago') that hangs
from the launch's own clause, a habitual adverb on it ('regularly test-fires'), a chronology entry; a recent anchor
in the sentence outside the clause that reports the launch, or a 'first ... since' that dates a current launch by
the gap before it, leaves the launch current. When the article's month is known, a month that dates the launch
("In August North Korea fired...") is past when it lies more than a few months before it.
A launch the next sentence refers back to ('the launch', 'the missile flew', 'it') keeps the past date of the one
before when its own sentence dates nothing."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from spacy.tokens import Span, Token

from ..document import ents_in, span_text
from ..nlp import token_columns
from ..published import PublishedMonth
from .candidates import SentenceCandidate
from .clauses import speech_head
from .lexicon import DatedLaunch, lexicon


@dataclass(frozen=True)
class _Compiled:
    past_cues: re.Pattern[str]
    recent_cues: re.Pattern[str]
    recent_times: re.Pattern[str]
    past_times: re.Pattern[str]
    first_of_span: re.Pattern[str]


@cache
def _compiled(rules: DatedLaunch) -> _Compiled:
    def rx(pattern: str) -> re.Pattern[str]:
        return re.compile(pattern, re.IGNORECASE)

    return _Compiled(
        rx(rules.past_cues),
        rx(rules.recent_cues),
        rx(rules.recent_times),
        rx(rules.past_times),
        rx(rules.first_of_span),
    )


def dated_in_past(trigger: Token, sent: Span, published: PublishedMonth | None = None) -> bool:
    """The launch ``trigger`` names is dated to the past by its sentence, read against the article's month
    ``published`` when known (see the module's doc and the lexicon's ``dated_launch``)."""
    rules = lexicon().cues.dated_launch
    res = _compiled(rules)
    text = span_text(sent)
    if res.recent_cues.search(_without_reporting_clause(trigger, sent)) or res.first_of_span.search(text):
        return False
    if any(c.lower_ in rules.first_words for c in trigger.children):
        return False  # 'the first complete launch of ... since 2017': the gap dates a current launch
    if trigger.dep_ == "pobj" and trigger.head.lower_ in rules.since_preps:
        return True  # 'some 50 days have gone by since the last test': the time since it is counted, not its date
    times = _clause_times(trigger, sent, rules, res, published)
    if "recent" in times:
        return False
    return "past" in times or bool(res.past_cues.search(text)) or _habitual(trigger) or _chronology_entry(sent)


def _without_reporting_clause(trigger: Token, sent: Span) -> str:
    """The sentence's text without the clause that reports the launch's: 'North Korea last fired a missile in
    April, the ministry said ON TUESDAY' dates the report, not the launch."""
    speech = lexicon().cues.speech_verbs
    dropped: set[int] = set()
    reporter = speech_head(trigger, sent)  # a speech verb above the launch ('said that ... fired')
    if reporter is not None and reporter.i != trigger.i:
        reported = next((c for c in reporter.children if c.left_edge.i <= trigger.i <= c.right_edge.i), None)
        dropped = {t.i for t in reporter.subtree}
        if reported is not None:
            dropped -= {t.i for t in reported.subtree}
    for child in _clause_head(trigger).children:  # or one the parser hangs below it ('..., the ministry said')
        if child.lemma_ in speech and child.pos_ in ("VERB", "AUX") and child.i != trigger.i:
            dropped |= {t.i for t in child.subtree}
    orth = token_columns(sent.doc).orth  # the words from the doc's columns, not one Token object each
    return " ".join(orth[i] for i in range(sent.start, sent.end) if i not in dropped)


def _habitual(trigger: Token) -> bool:
    """A habitual adverb on the launch word or its clause head ('the navy regularly conducts test-firings'):
    launches in general, no particular one (the lexicon's ``habitual_adverbs``, as the rules' historical
    reading uses them)."""
    habitual = lexicon().cues.habitual_adverbs
    return any(
        c.dep_ == "advmod" and c.lower_ in habitual for t in (trigger, _clause_head(trigger)) for c in t.children
    )


def _clause_head(tok: Token) -> Token:
    """The verb whose clause a launch word belongs to: itself when a verb, else the first verb above it within 4
    steps, else where that walk stops. Not :func:`~wirewatch.agents.document.governing_verb` (8 steps, or None) on
    purpose: a verb far up a long noun phrase ('a report on the pace of work for the launch') dates another event,
    not the launch (a test pins that reach)."""
    cur = tok
    for _ in range(4):
        if cur.pos_ in ("VERB", "AUX") or cur.head.i == cur.i:
            return cur
        cur = cur.head
    return cur


def _clause_times(
    trigger: Token, sent: Span, rules: DatedLaunch, res: _Compiled, published: PublishedMonth | None
) -> set[str]:
    """'recent' or 'past' for each date or time expression that hangs from the launch's clause head within
    ``rules.reach`` steps, not through a clause of its own ('In August North Korea fired...', '... since
    2017'); a month more than ``rules.months_to_past`` before the article's ``published`` month is past; any
    other date neither recent nor past (a month with no article date, a year) says nothing."""
    head = _clause_head(trigger)
    out: set[str] = set()
    for ent in ents_in(sent):  # not Span.ents: it rebuilds every entity of the document on each call
        if ent.label_ not in ("DATE", "TIME"):
            continue
        cur, steps = ent.root, 0
        while cur.i != head.i and steps <= rules.reach and cur.head.i != cur.i and cur.dep_ not in rules.clause_deps:
            cur, steps = cur.head, steps + 1
        if cur.i != head.i:
            continue
        since = ent.root.dep_ == "pobj" and ent.root.head.lower_ in rules.since_preps
        age = published.months_after(ent.text) if published is not None else None
        if since or (age is not None and age > rules.months_to_past):
            out.add("past")
        elif res.recent_times.search(ent.text):
            out.add("recent")
        elif res.past_times.search(ent.text):
            out.add("past")
    return out


def _chronology_entry(sent: Span) -> bool:
    """A chronology entry: the sentence opens with a date and a colon ('May 2009: the navy test-fires...'),
    or the sentence before it is that date alone ('April 1984:')."""
    doc = sent.doc
    opening = doc[sent.start : min(sent.end, sent.start + 6)]
    colon = next((t.i for t in opening if t.text == ":"), None)
    if colon is not None and colon > sent.start and all(_date_or_punct(t) for t in doc[sent.start : colon]):
        return True
    if sent.start == 0:
        return False
    before = doc[sent.start - 1].sent
    return before[-1].text == ":" and all(_date_or_punct(t) for t in before)


def _date_or_punct(tok: Token) -> bool:
    return tok.ent_type_ == "DATE" or tok.is_punct


def inherit_past_dates(sentences: Sequence[SentenceCandidate]) -> None:
    """A launch the next sentence refers back to ('In 1998 the navy fired a cruise missile from the pier. The
    launch went badly wrong') is the one its previous sentence dated to the past, when that sentence's launches
    are all dated to the past and its own sentence dates nothing (no date or time of its own, no recent cue): its
    candidates are dated to the past too (in place)."""
    rules = lexicon().cues.dated_launch
    res = _compiled(rules)
    for before, sc in itertools.pairwise(sentences):
        if sc.index != before.index + 1 or not before.rule or not all(c.dated_past for c in before.rule):
            continue
        if any(e.label_ in ("DATE", "TIME") for e in ents_in(sc.sent)) or res.recent_cues.search(span_text(sc.sent)):
            continue
        for c in sc.rule:
            if not c.dated_past and refers_back(c.trigger, rules.reference_words):
                c.dated_past = True


def refers_back(trigger: Token, words: frozenset[str]) -> bool:
    """The launch word is a definite noun ('the launch', 'its test') or a verb whose subject is one or a pronoun
    ('the missile flew', 'it landed'): ``words`` are those determiners and pronouns."""

    def definite(noun: Token) -> bool:
        return any(c.dep_ in ("det", "poss") and c.lower_ in words for c in noun.children)

    if trigger.pos_ in ("NOUN", "PROPN"):
        return definite(trigger)
    subjects = [c for c in trigger.children if c.dep_ in ("nsubj", "nsubjpass")]
    return any((s.pos_ == "PRON" and s.lower_ in words) or definite(s) for s in subjects)
