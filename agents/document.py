"""Helpers over a parsed document that know nothing about launches or stances: a per-document memo, span
text and entities without re-walking the document, tree walks (ancestors, subject of a verb, governing verb),
line-cut sentences, wire datelines, the evidence sentence of a token, negation, a speaker's full name and
affiliation."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from spacy.tokens import Doc, Span, Token

from .evidence import Evidence
from .nlp import TokenColumns, doc_ents, doc_sents, doc_text, token_columns

#: The actor (a state on the caller's watch list) named in ``doc[start:end]``, preferring the one nearest
#: the token ``head``: how a caller tells whose spokesperson a speaker is.
ActorLookup = Callable[[Doc, int, int, Token | None], str | None]


def ancestor_ids(i: int, sent: Span, heads: list[int]) -> list[int]:
    """Indices of ``doc[i].ancestors`` inside ``sent`` (read off the head column: no Token objects)."""
    out = []
    for _ in range(len(heads)):  # as Token.ancestors: at most as many steps as tokens
        if heads[i] == i:
            break
        i = heads[i]
        if sent.start <= i < sent.end:
            out.append(i)
    return out


def ancestors_in(tok: Token, sent: Span) -> list[Token]:
    doc = tok.doc
    return [doc[a] for a in ancestor_ids(tok.i, sent, token_columns(doc).heads)]


def depth_between(i: int, head: int, heads: list[int]) -> int:
    """Steps up the tree from token ``i`` to token ``head`` (50 + steps to the root if not under it)."""
    depth = 0
    while i != head:
        if heads[i] == i:
            return 50 + depth
        i = heads[i]
        depth += 1
        if depth > 40:
            return 99
    return depth


def subtree_bounds(tok: Token) -> tuple[int, int]:
    return tok.left_edge.i, tok.right_edge.i + 1


def subject_of(tok: Token, speech_verbs: Collection[str]) -> Token | None:
    """The subject of a verb, inherited through coordination ("launched and flew") and xcomp; a plan
    announced by a speech verb (``speech_verbs``, lemmas) has no subject up the tree."""
    cur = tok
    for _ in range(4):
        subjects = [c for c in cur.children if c.dep_ in ("nsubj", "nsubjpass", "csubj")]
        if subjects:
            # a dateline ("SEOUL, South Korea (AP) — North Korea fired") can parse as a second subject:
            # the one closest before the verb is the real one
            before = [c for c in subjects if c.i < cur.i]
            return max(before, key=lambda c: c.i) if before else subjects[0]
        for child in cur.children:
            if child.dep_ == "agent":
                pobj = [c for c in child.children if c.dep_ == "pobj"]
                if pobj:
                    return pobj[0]
        if cur.tag_ == "VBD":
            # a finite verb parsed without a subject ("— North Korea test-fired ..." as a modifier): the
            # proper noun right before it is its subject
            names = [
                c
                for c in cur.children
                if c.i < cur.i and c.dep_ in ("compound", "npadvmod", "dep") and c.pos_ == "PROPN"
            ]
            if names:
                return names[-1]
        # "acomp": "they were prepared / ready / poised to fire": the subject of the copula
        if cur.dep_ in ("conj", "xcomp", "advcl", "acl", "relcl", "pcomp", "acomp") and cur.head.i != cur.i:
            if cur.dep_ in ("acl", "relcl") and cur.tag_ == "VBN":
                return cur.head  # "missiles launched from X": the modified noun
            if cur.dep_ in ("acl", "relcl") and cur.tag_ == "VBD":
                return None  # a misparsed finite verb: its subject is not up the tree
            if cur.dep_ in ("acl", "relcl"):
                # "a plan to launch", "its attempt to launch": the planner is the subject of the plan's verb
                noun = cur.head
                if noun.dep_ == "poss" or any(c.dep_ == "poss" for c in noun.children):
                    return next((c for c in noun.children if c.dep_ == "poss"), noun)
                cur = noun
                while cur.pos_ not in ("VERB", "AUX") and cur.head.i != cur.i:
                    cur = cur.head
                if cur.lemma_.lower() in speech_verbs:
                    return None  # the reporter is not the planner
                continue
            cur = cur.head
            continue
        break
    return None


def negated_at(
    i: int,
    cols: TokenColumns,
    words: Collection[str],
    word_deps: Collection[str],
    *,
    contrast_pos: Collection[str] = (),
) -> bool:
    """Whether token ``i`` has a negating child: a ``neg`` dependent, or one of ``words`` (lowercase) attached
    as one of ``word_deps``. Each caller passes its own lexicon's words. The detector asks whether a launch is
    denied, so a negative subject counts ("NO missile was fired": nsubj, dep); the stance tagger asks whether
    a word's valence flips, and passes ``contrast_pos``: a negator after a comma and before one of these parts
    of speech contrasts a phrase (", not threats,") and does not negate the word it hangs from."""
    dep, lower, kids = cols.dep, cols.lower, cols.children
    for c in kids[i]:
        d = dep[c]
        if d == "neg" or (lower[c] in words and d in word_deps):
            if (
                contrast_pos
                and c > 0
                and cols.orth[c - 1] == ","
                and c + 1 < len(dep)
                and cols.pos[c + 1] in contrast_pos
            ):
                continue
            return True
    return False


def governing_verb(tok: Token, sent: Span) -> Token | None:
    """The first verb above ``tok`` within ``sent``, up to 8 steps; None if there is none: the verb a noun phrase
    is an argument of ('conducted a test', 'the test took place'), whose subject and objects the callers read.
    Not the detector's clause head (``detector.dating._clause_head``, which is ``tok`` itself for a verb, stops
    after 4 steps and never fails): callers here want that verb across long noun phrases, or nothing."""
    cur = tok
    for _ in range(8):
        if cur.head.i == cur.i or not (sent.start <= cur.head.i < sent.end):
            return None
        cur = cur.head
        if cur.pos_ in ("VERB", "AUX"):
            return cur
    return None


def name_with_affiliation(subj: Token, doc: Doc, entities: Sequence[Any], actor_in: ActorLookup) -> str | None:
    """The name the subject phrase of ``subj`` gives, with the state it speaks for: "Kelly Craft (United States)",
    "South Korea's military", "KCNA (North Korea)"; None for a phrase that names no one."""
    lo, hi = subtree_bounds(subj)
    phrase = doc[lo:hi]
    first, last = phrase.start_char, phrase.end_char
    for ent in entities:  # the entity layer knows "Craft" is Kelly Craft
        if getattr(ent, "label", "") == "PERSON" and first <= ent.start < last:
            name = str(getattr(ent, "canonical", "") or ent.text)
            state = affiliation(name, doc, actor_in) or affiliation(ent.text, doc, actor_in)
            return f"{name} ({state})" if state else name
    person = None
    for ent in ents_in(phrase):
        if ent.label_ == "PERSON":
            person = ent
            break
    if person is None:
        # an organisation or a state: "KCNA (North Korea)", "South Korea's military", "Iran"
        actor = actor_in(doc, lo, hi, subj)
        surface = doc[subj.left_edge.i : subj.i + 1].text
        if subj.pos_ == "PROPN" or subj.ent_type_ in ("ORG", "GPE", "NORP") or actor:
            if actor and actor not in surface:
                return f"{surface} ({actor})"
            return surface
        return None
    name = full_name(person, doc, entities)
    state = affiliation(name, doc, actor_in)
    return f"{name} ({state})" if state else name


def full_name(person: Span, doc: Doc, entities: Sequence[Any]) -> str:
    surname = person.text.split()[-1]
    for ent in entities:
        if getattr(ent, "label", "") == "PERSON" and getattr(ent, "text", "") == person.text:
            canonical = getattr(ent, "canonical", "")
            if canonical:
                return canonical
    longest = person.text
    for ent in ents_in(doc[:]):
        if ent.label_ == "PERSON" and ent.text.split()[-1] == surname and len(ent.text) > len(longest):
            longest = ent.text
    return longest


def affiliation(name: str, doc: Doc, actor_in: ActorLookup) -> str | None:
    """A state named right before the person's fullest mention ('US Ambassador ... Kelly Craft')."""
    cache = doc_memo(doc, "affiliation")
    if name not in cache:
        cache[name] = _find_affiliation(name, doc, actor_in)
    return cache[name]


def _find_affiliation(name: str, doc: Doc, actor_in: ActorLookup) -> str | None:
    for m in re.finditer(re.escape(name), doc_text(doc)):
        span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
        if span is None:
            continue
        # only the name's own phrase ("US Ambassador Kelly Craft", "Kim Yo Jong, the sister of Kim Jong Un"):
        # a state named in the clause before it ("... unless the United States ends its drills, Kim Yo Jong
        # said") is not whose the speaker is
        phrase_lo, phrase_hi = subtree_bounds(_phrase_head(span.root))
        lo = max(span.sent.start, span.start - 8, phrase_lo)
        hi = min(span.sent.end, span.end + 10, phrase_hi)
        before = actor_in(doc, lo, span.start, span.root)
        if before:
            return before
        after = doc[span.end : hi]
        if after.text[:2].startswith(","):
            actor = actor_in(doc, span.end, hi, None)
            if actor:
                return actor
    return None


def _phrase_head(tok: Token) -> Token:
    """The head of the noun phrase a name is part of: the name itself, or the noun it is in apposition to, a
    compound of ("the North Korean leader, Kim Jong Un", "the Kim Jong Un regime") or parsed as the object of
    a preposition of ("US Ambassador to the United Nations Kelly Craft", parsed as the UN's Kelly Craft)."""
    while tok.head.i != tok.i:
        if tok.dep_ in ("appos", "compound"):
            tok = tok.head
        elif tok.dep_ == "pobj" and tok.head.dep_ == "prep" and tok.head.head.pos_ in ("NOUN", "PROPN"):
            tok = tok.head.head
        else:
            break
    return tok


def name_before(verb: Token, after: int) -> Token | None:
    """The speaker of a verb the parser left without a subject, named right before it and after token
    ``after`` ("..., Kim Yo Jong, the sister of leader Kim Jong Un, said", the name parsed as joined to the
    noun before it): the proper noun ending the phrase before the verb, or the one its apposition describes."""
    doc = verb.doc
    i = verb.i - 1
    while i > after and doc[i].is_punct:
        i -= 1
    if i <= after:
        return None
    tok = doc[i]
    for anc in (tok, *tok.ancestors):
        if anc.i <= after or anc.i >= verb.i:
            break
        if anc.dep_ == "appos":
            tok = anc.head
            break
    return tok if tok.pos_ == "PROPN" and after < tok.i < verb.i else None


_CACHE_KEY = "wirewatch.document"


def doc_cache(doc: Doc) -> dict[str, Any]:
    """Per-document memo (in ``doc.user_data``) so document-wide look-ups run once, not per candidate."""
    try:  # (not setdefault: that builds a new dict on every one of thousands of calls)
        return doc.user_data[_CACHE_KEY]
    except KeyError:
        cache: dict[str, Any] = {}
        doc.user_data[_CACHE_KEY] = cache
        return cache


def doc_memo(doc: Doc, name: str) -> dict[Any, Any]:
    """The per-document memo dict ``name`` in :func:`doc_cache` (created on first use)."""
    cache = doc_cache(doc)
    try:
        return cache[name]
    except KeyError:
        memo: dict[Any, Any] = {}
        cache[name] = memo
        return memo


def evidence_span(doc: Doc, evidence: Evidence) -> Span | None:
    """The tokens of an evidence sentence (``Doc.char_span``, expanded to whole tokens), memoised per doc: the
    stance features read each evidence sentence several times. Treat the span as read only."""
    memo = doc_memo(doc, "evidence_spans")
    key = (evidence.start, evidence.end)
    try:
        return memo[key]
    except KeyError:
        span = memo[key] = doc.char_span(evidence.start, evidence.end, alignment_mode="expand")
        return span


def span_text(span: Span) -> str:
    """``span.text`` as a slice of the cached article text (``Span.text`` materialises every token)."""
    return doc_text(span.doc)[span.start_char : span.end_char]


def ents_in(span: Span) -> list[Span]:
    """The named entities inside ``span`` (``Span.ents`` walks the whole document on every call)."""
    cache = doc_cache(span.doc)
    if "ents" not in cache:
        cache["ents"] = [(e.start, e.end, e) for e in doc_ents(span.doc)]
    lo, hi = span.start, span.end
    return [e for start, end, e in cache["ents"] if lo <= start and end <= hi]


def dateline_tokens(sent: Span) -> set[int]:
    """'TOKYO -', 'SEOUL, March 4 (Reuters) -', 'Kyiv, Ukraine -', 'ISLAMABAD:': where the story was filed,
    not who launched or who speaks."""
    memo = doc_memo(sent.doc, "dateline_tokens")
    key = (sent.start, sent.end)
    if key not in memo:
        memo[key] = _find_dateline(sent)
    return memo[key]


def _find_dateline(sent: Span) -> set[int]:
    text = span_text(sent)
    if not _may_end_dateline(text, 0, len(text)):
        return set()  # nothing that can end a dateline: skip the token walk
    doc = sent.doc
    for tok in sent[:14]:
        if tok.i == sent.start:
            continue
        # a spaced hyphen, dash or underscore (old AP copy: "HAIFA, Israel (AP) _"), not the hyphen of
        # "nuclear-powered"; or a colon straight after a word ("ISLAMABAD: Pakistan tested")
        spaced = bool(doc[tok.i - 1].whitespace_) and bool(tok.whitespace_)
        dash = tok.text in ("—", "–") or (tok.text in ("-", "--", "_") and spaced)
        colon = tok.text == ":" and not doc[tok.i - 1].whitespace_ and bool(tok.whitespace_)
        if not dash and not colon:
            continue
        head = doc[sent.start : tok.i]
        if any(t.pos_ in ("VERB", "AUX") for t in head):
            return set()  # a clause before the dash is not a dateline
        first = sent[0]
        if colon:
            # "ISLAMABAD:", not "FLASH:", "KCNA:" nor "(NASDAQ:": a place in capitals, or a city and its state
            place = all(t.is_upper for t in head) and len(head) <= 3 and _places_named(head) >= 1
            return set(range(sent.start, tok.i + 1)) if place or _city_and_state(head) else set()
        if (
            (first.is_upper and len(first.text) > 2)
            or "(" in head.text
            or (_city_and_state(head) and not _closes_an_aside(sent, tok))
        ):
            return set(range(sent.start, tok.i + 1))
        return set()
    return set()


def _may_end_dateline(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] holds a mark that can end a dateline (the cheap test before the token walk)."""
    return any(text.find(mark, start, end) >= 0 for mark in ("—", "–", " -", " _", ":"))


def _places_named(head: Span) -> int:
    """How many places (GPE) the parser names in ``head``."""
    return sum(1 for e in doc_ents(head.doc) if head.start <= e.start and e.end <= head.end and e.label_ == "GPE")


def _city_and_state(head: Span) -> bool:
    """A dateline in title case: a place, a comma and a second place at the start ('Kyiv, Ukraine', 'Tehran,
    Iran'), with no 'and' or 'or' (a subject: 'Pakistan and India - nuclear rivals - have tested')."""
    places = [e for e in doc_ents(head.doc) if head.start <= e.start and e.end <= head.end and e.label_ == "GPE"]
    if len(places) < 2 or places[0].start != head.start or any(t.pos_ == "CCONJ" for t in head):
        return False
    comma = places[0].end
    return comma < head.end and head.doc[comma].text == "," and places[1].start == comma + 1


def _closes_an_aside(sent: Span, dash: Token) -> bool:
    """Another dash of the same kind later in the sentence: the first opened an aside ('North Korea, Iran -
    and now Russia - have tested'), not a dateline."""
    return any(t.text == dash.text for t in sent.doc[dash.i + 1 : sent.end])


def dateline_chars(doc: Doc) -> list[tuple[int, int]]:
    """Char ranges of the datelines of the document's sentences (memoised per document)."""
    cache = doc_cache(doc)
    if "datelines" not in cache:
        ranges = []
        text = doc_text(doc)
        for sent in doc_sents(doc):
            # the mark test of _find_dateline, on the article text (no slice): most sentences fail it
            if not _may_end_dateline(text, sent.start_char, sent.end_char):
                continue
            toks = dateline_tokens(sent)
            if toks:
                ranges.append((doc[min(toks)].idx, doc[max(toks)].idx + len(doc[max(toks)])))
        cache["datelines"] = ranges
    return list(cache["datelines"])


def line_sentences(doc: Doc) -> Iterable[Span]:
    """The parser's sentences, further cut at line breaks: a paragraph end is always a sentence end."""
    for sent in doc_sents(doc):
        if "\n" not in span_text(sent):
            yield sent  # no line break inside: no token walk needed
            continue
        start = sent.start
        for tok in sent:
            if tok.is_space and "\n" in tok.text:
                if tok.i > start:
                    yield doc[start : tok.i]
                start = tok.i + 1
        if start < sent.end:
            yield doc[start : sent.end]


def evidence_sentence(sent: Span, trigger: Token) -> Evidence:
    """The trigger's sentence, cut at line breaks (the parser sometimes runs paragraphs together) and
    stripped; offsets stay exact positions in the article text."""
    text, base = span_text(sent), sent.start_char
    at = trigger.idx - base
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    return Evidence(piece, base + start + lead, base + start + lead + len(piece))
