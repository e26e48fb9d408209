"""Stance stage 1, speakers: who holds or reports a position.

The document context (quotes and their speakers, speakers named so far, entity lookups, token columns), the
subject of a speaker verb, pronoun and role resolution, and the holder and reporters of a reading.
"""

from __future__ import annotations

import operator
from bisect import bisect_left
from collections.abc import Sequence
from functools import cached_property
from itertools import compress, pairwise

from spacy.tokens import Doc, Span, Token

from ..document import dateline_tokens
from ..nlp import EntityMention, TokenColumns, doc_sents, doc_text, normalise_name, token_columns
from .grammar import (
    COPULAS,
    DOCUMENT_NOUNS,
    NAME_DROP_DEPS,
    POSSESSIVES,
    QUANTIFIERS,
    QUOTE_CHAR,
    QUOTE_CLOSE,
    QUOTE_OPEN,
    RELATIVE,
    SPEAKER_VERB_POS,
    STRIP,
)
from .lexicon import Lexicon
from .records import AUTHOR, UNATTRIBUTED, Speaker


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of quoted material; an unclosed quote ends with its paragraph."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for para in text.split("\n"):
        open_at: int | None = None
        for found in QUOTE_CHAR.finditer(para):  # only quote characters change the state
            k, ch = found.start(), found.group()
            if ch in QUOTE_OPEN and open_at is None:
                open_at = k + 1
            elif ch in QUOTE_CLOSE and open_at is not None:
                spans.append((offset + open_at, offset + k))
                open_at = None
            elif ch == '"':
                if open_at is None:
                    open_at = k + 1
                else:
                    spans.append((offset + open_at, offset + k))
                    open_at = None
        if open_at is not None and open_at < len(para):
            spans.append((offset + open_at, offset + len(para)))
        offset += len(para) + 1
    return [s for s in spans if s[1] > s[0]]


class DocContext:
    """Per-document state: quotes, speakers named so far, entity lookups."""

    def __init__(self, doc: Doc, entities: Sequence[EntityMention], lex: Lexicon) -> None:
        self.doc = doc
        self.lex = lex
        self.entities = list(entities) or _fallback_entities(doc)
        ent_starts = [m.start for m in self.entities]
        ordered = all(a <= b for a, b in pairwise(ent_starts))
        self._ent_starts: list[int] | None = ent_starts if ordered else None  # for bisecting in ents_in
        self._ent_longest = max((m.end - m.start for m in self.entities), default=0)
        self.alias_values = set(lex.aliases.values())
        # per-token columns read once (shared with the detector): Token objects dominated the cost
        self.columns = columns = token_columns(doc)
        self.orth: list[str] = columns.orth
        self.lower: list[str] = columns.lower
        self.lemma: list[str] = columns.lemma  # lowercased, as every rule uses it
        self.pos: list[str] = columns.pos
        self.tag: list[str] = columns.tag
        self.dep: list[str] = columns.dep
        self.starts: list[int] = columns.starts  # char offsets (Token.idx)
        self.is_quote: list[int] = columns.is_quote
        self.is_punct: list[int] = columns.is_punct
        self.children: list[list[int]] = columns.children  # child indices in text order (= Token.children)
        self.text = doc_text(doc)  # = doc.text, which spaCy rebuilds on every access (shared memo)
        # tokens that may be speaker verbs (a cheap necessary condition of is_speaker_verb), in text order:
        # a verb, auxiliary or adjective whose lemma may make a speaker verb or that is an attitude adjective
        cue = map(
            operator.or_,
            map(lex.verb_cue_lemmas.__contains__, self.lemma),
            map(lex.attitude_adjectives.__contains__, self.lower),
        )
        verbal = map(SPEAKER_VERB_POS.__contains__, self.pos)
        self.verb_candidates: list[int] = list(compress(range(len(doc)), map(operator.and_, verbal, cue)))
        self._pred_keys: dict[int, str] = {}  # memo of pred_key by token index
        self._speaker_verbs: dict[int, bool] = {}  # memo of is_speaker_verb by token index
        self._subjects: dict[int, Token | None] = {}  # memo of subject by token index
        self._text_affiliations: dict[str, str | None] = {}  # memo of affiliation_of_text
        self._phrase_names: dict[int, tuple[str, str, list[int], bool]] = {}  # memo of _phrase_name
        self._affiliations: dict[tuple[int, str], str | None] = {}  # memo of a phrase's affiliation by name
        self.quotes = _quote_spans(self.text)
        self.quote_tokens: list[range] = []  # token indices of each quote
        self.quote_of: list[int | None] = [None] * len(doc)
        for qi, (s, e) in enumerate(self.quotes):
            toks = range(bisect_left(self.starts, s), bisect_left(self.starts, e))
            self.quote_tokens.append(toks)
            for i in toks:
                if not self.is_quote[i]:
                    self.quote_of[i] = qi
        self.sents = doc_sents(doc)  # shared with the detector: read only
        self.sent_index = [0] * len(doc)
        for si, sent in enumerate(self.sents):
            self.sent_index[sent.start : sent.end] = [si] * (sent.end - sent.start)
        self.mention_roots: set[int] = set()  # token indices of target mentions
        self.history: list[Speaker] = []  # directly named speakers, in text order
        self._build_history()
        self.quote_speakers: list[Speaker] = self._attribute_quotes()

    # -- entities and names
    # Not document.ents_in: overlap in characters over the entity layer (canonical names), not containment in doc.ents.
    def ents_in(self, start: int, end: int) -> list[EntityMention]:
        """Entities overlapping [start, end), in their given order."""
        ents = self.entities
        if self._ent_starts is not None:
            # sorted by start: only entities starting in [start - longest, end) can overlap (same order)
            ents = ents[bisect_left(self._ent_starts, start - self._ent_longest) : bisect_left(self._ent_starts, end)]
        return [m for m in ents if m.start < end and m.end > start]

    def affiliation_of_text(self, text: str) -> str | None:
        if text not in self._text_affiliations:  # memoised: the same names are looked up again and again
            self._text_affiliations[text] = self.lex.aliases.get(text) or self.lex.aliases.get(normalise_name(text))
        return self._text_affiliations[text]

    # Not document.affiliation: the stance lexicon (listed speakers, aliases, titles), not the watch list by position.
    def _affiliation(self, canonical: str, surface: str, tokens: list[int]) -> str | None:
        lex = self.lex
        if canonical in lex.speakers:
            return lex.speakers[canonical]
        if canonical and " " not in canonical and lex.speakers:
            aff = lex.speaker_by_surname.get(canonical.split()[-1])  # a bare surname of a listed speaker
            if aff is not None:
                return aff
        direct = self.affiliation_of_text(surface) or (canonical if canonical in self.alias_values else None)
        if direct:
            return direct
        if not tokens:
            return None
        start, end = self.starts[tokens[0]], self.end_char(tokens[-1])
        for ent in self.ents_in(start, end):
            if ent.label in ("GPE", "NORP", "ORG"):
                aff = self.affiliation_of_text(ent.text) or self.affiliation_of_text(ent.canonical)
                if aff or ent.canonical in self.alias_values:
                    return aff or ent.canonical
        for i in tokens:
            aff = self.lex.aliases.get(self.orth[i])
            if aff:
                return aff
        for i in tokens:
            if self.lower[i] in lex.titles:
                return lex.titles[self.lower[i]]
        return None

    # -- token indices (cheaper than spaCy Token objects, which are rebuilt on every access)
    def end_char(self, i: int) -> int:
        return self.starts[i] + len(self.orth[i])

    # = document.span_text(doc[first : last + 1]) on token indices: no Span built on this hot path.
    def span_text(self, first: int, last: int) -> str:
        """= ``doc[first : last + 1].text``."""
        return self.text[self.starts[first] : self.end_char(last)]

    def subtree(self, i: int) -> list[int]:
        """= ``[t.i for t in doc[i].subtree]`` (left subtrees, the token, right subtrees)."""
        kids = self.children[i]
        if not kids:
            return [i]  # most tokens are leaves
        out: list[int] = []
        for c in kids:
            if c > i:
                break
            out += self.subtree(c)
        out.append(i)
        for c in kids:
            if c > i:
                out += self.subtree(c)
        return out

    def appos_tokens(self, i: int) -> list[int]:
        """The subtrees of the appositions of token ``i``."""
        return [t for c in self.children[i] if self.dep[c] == "appos" for t in self.subtree(c)]

    def _phrase_tokens(self, head: int) -> list[int]:
        dep, is_punct, is_quote = self.dep, self.is_punct, self.is_quote
        drop: set[int] = set()
        for child in self.children[head]:
            if dep[child] in NAME_DROP_DEPS:
                drop.update(self.subtree(child))
        kept = [t for t in self.subtree(head) if t not in drop] if drop else self.subtree(head)
        lo, hi = min(kept), max(kept)
        toks = [t for t in range(lo, hi + 1) if t not in drop] if drop else list(range(lo, hi + 1))
        while toks and (dep[toks[0]] == "det" or is_punct[toks[0]] or is_quote[toks[0]]):
            toks = toks[1:]
        while toks and (is_punct[toks[-1]] or is_quote[toks[-1]] or self.tag[toks[-1]] == "POS"):
            toks = toks[:-1]
        return toks or [head]

    # Not document.name_with_affiliation: a Speaker (surface, canonical, person) with the stance lexicon's affiliation.
    def named_speaker(self, head: Token) -> Speaker:
        """A speaker from a noun phrase headed by ``head`` (no pronoun resolution)."""
        h = head.i
        if self.lemma[h] in DOCUMENT_NOUNS:  # "a statement from the office of X said"
            for tok in head.subtree:
                if tok.dep_ == "pobj" and tok.head.lower_ in ("by", "from", "of") and tok.head.head == head:
                    return self.named_speaker(tok)
                if tok.dep_ == "pobj" and tok.head.dep_ == "agent":
                    return self.named_speaker(tok)
            # "the Foreign Ministry statement said", "Friday's ministry statement": the body that issued it
            issuer = [c for c in head.children if c.dep_ in ("compound", "poss") and self._may_issue(c)]
            if issuer:
                return self.named_speaker(issuer[-1])
        surface, canonical, tokens, person = self._phrase_name(head)
        if " " not in canonical and canonical[:1].isupper():
            canonical = self._full_name(canonical)  # depends on the history so far: not memoised
        key = (h, canonical)
        if key not in self._affiliations:
            self._affiliations[key] = self._affiliation(canonical, surface, tokens)
        return Speaker(surface, canonical, self._affiliations[key], person, self.starts[h])

    def _may_issue(self, tok: Token) -> bool:
        """A noun that may have issued a document: an agent, not a date ("Friday's statement") nor a pronoun
        ("his statement": the phrase is kept, as before)."""
        return (
            tok.pos_ != "PRON"
            and tok.ent_type_ not in ("DATE", "TIME", "CARDINAL", "ORDINAL")
            and (self.is_agent(tok) or tok.lemma_.lower() in self.lex.generic_holders)
        )

    def _phrase_name(self, head: Token) -> tuple[str, str, list[int], bool]:
        """Surface, canonical name (before surname completion), tokens and personhood of the noun phrase
        headed by ``head`` (memoised: the same subjects are named again and again)."""
        h = head.i
        found = self._phrase_names.get(h)
        if found is not None:
            return found
        toks = self._phrase_tokens(h)
        surface = self.span_text(toks[0], toks[-1])
        start, end = self.starts[toks[0]], self.end_char(toks[-1])
        # entities reaching outside the phrase are NER slips ("Ruiz later"): they do not name it
        # ... but one that only runs on through a hyphen ("Moon Jae|-in", split by the parser) does
        ents = [
            m
            for m in self.ents_in(start, end)
            if m.start >= start and (m.end <= end or not any(ch.isspace() for ch in self.text[end : m.end]))
        ]
        appos = self.appos_tokens(h)
        persons = [m for m in ents if m.label == "PERSON"]
        if not persons and appos and self.lemma[h] in self.lex.role_nouns:
            # "the Russian envoy, Vasily Nebenzia, argued": the role's holder is named in apposition
            persons = [m for m in self.ents_in(self.starts[appos[0]], self.end_char(appos[-1])) if m.label == "PERSON"]
        has_conj = any(self.dep[c] == "conj" for c in self.children[h])
        head_idx = self.starts[h]
        head_ent = next((m for m in ents if m.start <= head_idx < m.end), None)
        appos_name = None if persons else self._appos_name(head)
        if has_conj:
            canonical = normalise_name(surface)
        elif persons:
            canonical = persons[-1].canonical
        elif appos_name:
            canonical = appos_name
        elif head_ent is not None:
            canonical = head_ent.canonical
        else:
            canonical = normalise_name(surface)
        person = bool(persons) or self.lemma[h] in self.lex.role_nouns
        found = self._phrase_names[h] = (surface, canonical, toks + appos, person)
        return found

    def _appos_name(self, head: Token) -> str | None:
        """The name in apposition to a role noun when NER did not tag it a person ("the deputy ambassador,
        Dmitry Polyanskiy,"): two or more capitalised proper nouns."""
        h = head.i
        if self.lemma[h] not in self.lex.role_nouns:
            return None
        for c in self.children[h]:
            if self.dep[c] != "appos":
                continue
            words = [t for t in self.subtree(c) if not (self.is_punct[t] or self.is_quote[t])]
            if len(words) >= 2 and all(self.pos[t] == "PROPN" and self.orth[t][:1].isupper() for t in words):
                name = normalise_name(self.span_text(words[0], words[-1]))
                if name not in self.alias_values and not self.affiliation_of_text(name):
                    return name  # not a place or body ("the envoy, North Korea, ...")
        return None

    # Not document.full_name (longest same-surname person): only an unambiguous completion, named speakers included.
    def _full_name(self, surname: str) -> str:
        """A bare surname of a person named in full elsewhere in the article ("Ruiz" -> "Ana Ruiz")."""
        full = set(self._person_surnames.get(surname, ()))
        full |= {s.canonical for s in self.history if s.person and s.canonical.split()[-1:] == [surname]}
        full.discard(surname)
        return full.pop() if len(full) == 1 else surname

    @cached_property
    def _person_surnames(self) -> dict[str, list[str]]:
        """Canonical names of the PERSON entities by last word (for :meth:`_full_name`)."""
        found: dict[str, list[str]] = {}
        for m in self.entities:
            if m.label == "PERSON":
                found.setdefault(m.canonical.split()[-1], []).append(m.canonical)
        return found

    def is_role_only(self, head: Token) -> bool:
        """A role noun with no person named in its phrase ("the Russian ambassador")."""
        if self.lemma[head.i] not in self.lex.role_nouns or self._appos_name(head):
            return False
        end = max([self.end_char(head.i)] + [self.end_char(t) for t in self.appos_tokens(head.i)])
        return not any(m.label == "PERSON" for m in self.ents_in(head.left_edge.idx, end))

    def resolve_role(self, head: Token) -> Speaker:
        """'the Russian ambassador' -> the last named person of that affiliation; else the phrase itself."""
        own = self.named_speaker(head)
        role = head.lower_
        for prev in reversed(self.history):
            if prev.position >= head.idx or not prev.person:
                continue
            same_role = role in prev.surface.lower().split()  # "Ambassador Lee ..." -> "the ... ambassador"
            if (
                own.affiliation is None
                or prev.affiliation == own.affiliation
                or (same_role and prev.affiliation is None)
            ):
                return Speaker(own.surface, prev.canonical, prev.affiliation or own.affiliation, True, head.idx)
        return own

    def resolve_pronoun(self, tok: Token) -> Speaker:
        word = tok.lower_
        person = word in ("he", "she", "him", "her", "his")
        for prev in reversed(self.history):
            if prev.position < tok.idx and prev.person == person:
                return Speaker(tok.text, prev.canonical, prev.affiliation, prev.person, tok.idx)
        if person:
            for ent in reversed(self.entities):
                if ent.label == "PERSON" and ent.end <= tok.idx:
                    aff = self._affiliation(ent.canonical, ent.text, [])
                    return Speaker(tok.text, ent.canonical, aff, True, tok.idx)
        return Speaker(tok.text, "", None, person, tok.idx)

    def speaker_of_subject(self, subj: Token, quote_speaker: Speaker | None) -> Speaker | None:
        """The speaker a subject token names; None for a first person outside quotes."""
        word = subj.lower_
        if word in self.lex.first_person:
            return quote_speaker
        if word in RELATIVE and subj.head.dep_ == "relcl":
            subj = subj.head.head
            word = subj.lower_
        if word in self.lex.third_person:
            return self.resolve_pronoun(subj)
        if self.is_role_only(subj):
            return self.resolve_role(subj)
        return self.named_speaker(subj)

    # -- verbs
    def pred_key(self, tok: Token) -> str:
        """The lemma, with its particle when the lexicon lists the phrasal verb ("give up", "go on")."""
        return self.pred_key_at(tok.i)

    def pred_key_at(self, i: int) -> str:
        """:meth:`pred_key` of token ``i``."""
        key = self._pred_keys.get(i)
        if key is None:
            key = self._pred_keys[i] = self._pred_key(i)
        return key

    def _pred_key(self, i: int) -> str:
        lemma = self.lemma[i]
        for c in self.children[i]:
            dep = self.dep[c]
            if dep in ("prt", "advmod", "prep") and c > i:
                key = f"{lemma} {self.lower[c]}"
                if dep == "prt" or key in self.lex.predicates or key in self.lex.speaker_verbs:
                    return key
        return lemma

    def is_agent(self, tok: Token) -> bool:
        """Can this noun hold a position? Names, pronouns, roles and bodies can; "a resolution" cannot."""
        if tok.pos_ in ("PROPN", "PRON") or tok.ent_type_:
            return True
        lemma = tok.lemma_.lower()
        return lemma in self.lex.role_nouns or lemma in self.lex.generic_holders or lemma in self.lex.agent_nouns

    def holds(self, verb: Token, subj: Token) -> bool:
        """Whether ``subj`` is the holder of a position expressed by speaker verb ``verb``."""
        if subj.lower_ in RELATIVE and subj.head.dep_ == "relcl":
            return self.is_agent(subj.head.head)  # "a resolution that called for ..." holds nothing
        # whatever "says" something is its speaker; attitudes and acts show a stance only when an agent has
        # them: "new sanctions could PUSH Iran away" does not make the sanctions a speaker
        if subj.i in self.mention_roots:
            return False  # "its missile ATTACK ... was a response": a target is not its own speaker
        if verb.lemma_.lower() in self.lex.reporting_verbs:
            return True
        return self.is_agent(subj) or subj.lemma_.lower() in DOCUMENT_NOUNS

    def may_be_speaker_verb(self, i: int) -> bool:
        """Cheap necessary condition for :meth:`is_speaker_verb` on token ``i`` (no Token needed)."""
        return self.pos[i] in SPEAKER_VERB_POS and (
            self.lemma[i] in self.lex.verb_cue_lemmas or self.lower[i] in self.lex.attitude_adjectives
        )

    def speaker_verbs_in(self, start: int, end: int) -> list[Token]:
        """The speaker verbs among tokens [start, end) outside quotes, in text order."""
        doc, quote_of, cands = self.doc, self.quote_of, self.verb_candidates
        return [
            doc[i]
            for i in cands[bisect_left(cands, start) : bisect_left(cands, end)]
            if quote_of[i] is None and self.speaker_verb_at(i)
        ]

    # Not detector.clauses._is_speech_verb: the stance lexicon's verb cues (phrasal keys) and attitude copulas too.
    def is_speaker_verb(self, tok: Token) -> bool:
        return self.speaker_verb_at(tok.i)

    def speaker_verb_at(self, i: int) -> bool:
        """:meth:`is_speaker_verb` of token ``i`` (memoised)."""
        found = self._speaker_verbs.get(i)
        if found is None:
            found = self._speaker_verbs[i] = self.may_be_speaker_verb(i) and self._is_speaker_verb(i)
        return found

    def _is_speaker_verb(self, i: int) -> bool:
        pos = self.pos[i]
        if pos not in ("VERB", "AUX"):
            return pos == "ADJ" and self.attitude_at(i)
        verbs = self.lex.verb_cues
        return self.pred_key_at(i) in verbs or self.lemma[i] in verbs or self.attitude_at(i)

    def is_attitude(self, tok: Token) -> bool:
        """A copula with an attitude adjective ("Guterres WAS deeply CONCERNED by the launch", "Seoul
        REMAINS COMMITTED to ..."): its subject holds the attitude."""
        return self.attitude_at(tok.i)

    def attitude_at(self, i: int) -> bool:
        """:meth:`is_attitude` of token ``i``."""
        attitudes = self.lex.attitude_adjectives
        dep = self.dep
        if self.lower[i] in attitudes and any(dep[c] == "auxpass" for c in self.children[i]):
            return True  # parsed as a passive: "Guterres was CONCERNED by the launch"
        return self.lemma[i] in COPULAS and any(
            dep[c] == "acomp" and self.lemma[c] in attitudes for c in self.children[i]
        )

    def subject(self, verb: Token) -> Token | None:
        """:func:`subject_of` ``verb`` with the lexicon, memoised by token index."""
        return self.subject_at(verb.i)

    def subject_at(self, i: int) -> Token | None:
        """:meth:`subject` of token ``i``."""
        if i not in self._subjects:
            found = _subject_index(self.doc, self.columns, i, self.lex)
            if found is not None and self.quote_of[found] is not None and self.quote_of[found] != self.quote_of[i]:
                # quoted words parsed as the subject of the verb that reports them ('"..., only sanctions by
                # the UN," Holm, a ministry official, told ...'): the name in apposition, else none
                found = next(
                    (c for c in self.children[found] if self.dep[c] == "appos" and self.quote_of[c] is None), None
                )
            self._subjects[i] = None if found is None else self.doc[found]
        return self._subjects[i]

    def _build_history(self) -> None:
        for i in self.verb_candidates:
            if not self.speaker_verb_at(i):
                continue
            subj = self.subject_at(i)
            if subj is None:
                continue
            word = self.lower[subj.i]
            if word in self.lex.first_person or word in self.lex.third_person or word in RELATIVE:
                continue
            if self.is_role_only(subj):
                self.history.append(self.resolve_role(subj))  # "he" may refer back to "the envoy"
            else:
                self.history.append(self.named_speaker(subj))

    def _attribute_quotes(self) -> list[Speaker]:
        speakers: list[Speaker] = []
        last_sent = -10
        for (s, e), toks in zip(self.quotes, self.quote_tokens, strict=True):
            if not toks:
                speakers.append(Speaker(UNATTRIBUTED, "", None, False, s))
                continue
            first, last = self.sent_index[toks[0]], self.sent_index[toks[-1]]
            hi = last
            if self.text[:e].rstrip()[-1:] in (",", "?", "!", "—") and last + 1 < len(self.sents):
                hi = last + 1  # '"...," Craft said' split into its own sentence
            region = self.speaker_verbs_in(self.sents[first].start, self.sents[hi].end)
            verbs = [t for t in region if self.subject(t) is not None]
            speaker: Speaker | None = None
            if verbs:
                verb = min(verbs, key=lambda t: min(abs(t.idx - s), abs(t.idx - e)))
                subj = self.subject(verb)
                assert subj is not None
                speaker = self.speaker_of_subject(subj, None)
            elif region:
                speaker = self._unparsed_subject(region, s, e)
            if speaker is None:
                speaker = self._possessor_of_words(self.sents[first].start, self.sents[hi].end)
            if speaker is None and speakers and first - last_sent <= 1:
                speaker = speakers[-1]  # a continued quote: no verb of its own
            speakers.append(speaker or Speaker(UNATTRIBUTED, "", None, False, s))
            last_sent = last
        return speakers

    def _possessor_of_words(self, start: int, end: int) -> Speaker | None:
        """No speaker verb: 'Kim's RESPONSE was "..."', 'His answer was: "..."': the possessor of a speech noun
        (``speech_nouns``) that is the subject of a copula, outside quotes, among tokens [start, end)."""
        dep, kids = self.dep, self.children
        for i in range(start, end):
            if self.quote_of[i] is not None or self.lemma[i] not in self.lex.speech_nouns or dep[i] != "nsubj":
                continue
            if self.lemma[self.doc[i].head.i] not in COPULAS:
                continue
            owner = next((c for c in kids[i] if dep[c] == "poss"), None)
            if owner is None or self.lower[owner] in self.lex.first_person:
                continue
            if self.lower[owner] in POSSESSIVES:
                return self.resolve_pronoun(self.doc[owner])  # "HIS answer": the last person named before
            return self.speaker_of_subject(self.doc[owner], None)
        return None

    def _unparsed_subject(self, verbs: list[Token], start: int, end: int) -> Speaker | None:
        """A reporting verb the parser left without a subject ('"...," said Senator Pat Roberts speaking
        on ...'): the name standing right after it, or right before it, outside the quote."""
        reporting = [v for v in verbs if self.lemma[v.i] in self.lex.reporting_verbs]
        if not reporting:
            return None
        verb = min(reporting, key=lambda t: min(abs(t.idx - start), abs(t.idx - end)))
        near = [
            m
            for m in self.ents_in(self.starts[max(0, verb.i - 8)], self.end_char(min(len(self.doc) - 1, verb.i + 6)))
            if m.label in ("PERSON", "ORG", "NORP", "GPE") and not (start <= m.start < end)
        ]
        if not near:
            return None
        name = min(near, key=lambda m: (m.label != "PERSON", abs(m.start - verb.idx)))  # a person first
        span = self.doc.char_span(name.start, name.end, alignment_mode="expand")
        return self.named_speaker(span.root) if span is not None else None

    # Not detector speech_head's 'according' branch: skips quotes; 'to' must be its child, the pobj a child of 'to'.
    def according_to(self, sent: Span) -> Speaker | None:
        lower, dep, kids = self.lower, self.dep, self.children
        for i in range(sent.start, sent.end):
            if lower[i] == "according" and self.quote_of[i] is None:
                for prep in kids[i]:
                    if lower[prep] == "to":
                        pobj = next((c for c in kids[prep] if dep[c] == "pobj"), None)
                        if pobj is not None:
                            return self.speaker_of_subject(self.doc[pobj], None)
        return None


def _fallback_entities(doc: Doc) -> list[EntityMention]:
    return [EntityMention(e.text, e.label_, e.start_char, e.end_char, normalise_name(e.text), 1) for e in doc.ents]


# Not document.subject_of: these reporting, quoting and passive rules pick other subjects (either swap changes output).
def subject_of(verb: Token, lex: Lexicon | None = None) -> Token | None:
    """The subject of ``verb``, inherited through coordination, participles and control.

    With a lexicon: a reporting participle that the parser hangs on a reported clause belongs to the
    reporter (in "Lee said Seoul would act, ADDING that ...", the adding is Lee's, not Seoul's), and the
    one quoted "as saying" is the object of the quoting verb ("KCNA QUOTED Kim as saying").
    """
    doc = verb.doc
    found = _subject_index(doc, token_columns(doc), verb.i, lex)
    return None if found is None else doc[found]


def _subject_index(doc: Doc, cols: TokenColumns, v: int, lex: Lexicon | None) -> int | None:
    """:func:`subject_of` on token indices (read off the doc's columns: no Token objects on the way)."""
    dep, pos, tag, lemma, lower = cols.dep, cols.pos, cols.tag, cols.lemma, cols.lower
    heads, kids = cols.heads, cols.children
    reporting = lex.reporting_verbs if lex is not None else frozenset()
    quoting = lex.quoting_verbs if lex is not None else frozenset()
    if lex is not None and lower[v] in lex.attitude_adjectives:
        # "Guterres was concerned BY the launch": the one concerned, not the passive's agent
        holder = next((c for c in kids[v] if dep[c] in ("nsubjpass", "nsubj")), None)
        if holder is not None:
            return holder
    h = heads[v]
    if dep[v] == "pcomp" and lower[h] == "as" and lemma[heads[h]] in quoting and lemma[v] in reporting:
        # "KCNA quoted KIM as saying", or passive: "KIM was quoted (by KCNA) as saying"
        quoted = next((c for c in kids[heads[h]] if dep[c] in ("dobj", "nsubjpass")), None)
        if quoted is not None:
            return quoted
    if lemma[v] in quoting:
        # "Kim was quoted by state radio as saying ...": the one quoted holds the words, not the outlet
        quoted = next((c for c in kids[v] if dep[c] == "nsubjpass"), None)
        if quoted is not None and any(lower[c] == "as" for c in kids[v]):
            return quoted
    if (
        lemma[v] in reporting
        and dep[v] == "advcl"
        and tag[v] == "VBG"
        and dep[h] == "ccomp"
        and pos[heads[h]] in ("VERB", "AUX")
        and lemma[heads[h]] in reporting
    ):
        v = heads[h]
    seen = 0
    while seen < 6:
        seen += 1
        for c in kids[v]:
            if dep[c] in ("nsubj", "csubj"):
                # a dateline opens with a capital: "SEOUL, March 3 (Yonhap) --", "Kyiv, Ukraine -"
                dateline = dateline_tokens(doc[c].sent) if cols.orth[c][:1].isupper() else set()
                if c in dateline:
                    # "SEOUL, March 3 (Yonhap) -- Minister Park said": where the story was filed is no
                    # speaker; the subject after the dash is, or the apposition the parser made of it
                    after = [x for x in kids[v] if dep[x] in ("nsubj", "csubj") and x not in dateline]
                    return next(
                        iter(after), next((a for a in kids[c] if dep[a] == "appos" and a not in dateline), None)
                    )
                return c
        for c in kids[v]:
            if dep[c] == "agent":
                pobj = next((x for x in kids[c] if dep[x] == "pobj"), None)
                if pobj is not None:
                    return pobj
        if any(dep[c] in ("nsubjpass", "csubjpass") for c in kids[v]):
            return None  # a passive without its agent: the subject of another clause is not its holder
        head = heads[v]
        if head == v:
            return None
        rel = dep[v]
        if rel == "xcomp":
            obj = next((c for c in kids[head] if dep[c] in ("dobj", "dative")), None)
            if obj is not None and (pos[obj] in ("PROPN", "PRON") or doc[obj].ent_type_):
                return obj  # object control: "prompting Trump to urge ..."
            v = head
        elif (rel == "conj" and pos[head] in ("VERB", "AUX")) or (
            rel == "advcl"
            and pos[head] in ("VERB", "AUX")
            and (tag[v] in ("VBG", "VBN") or (tag[v] == "VB" and any(tag[c] == "TO" for c in kids[v])))
        ):  # "... and have called on", "..., saying", "went on TO STRESS"; a finite adverbial clause has a
            # subject of its own
            v = head
        elif rel == "relcl":
            return head
        else:
            return None
    return None


def reports_quote_of_another(spk: Speaker, quote_speaker: Speaker | None, qi: int | None, in_quote: bool) -> bool:
    """A verb outside the quote the mention is in, whose subject is not the speaker the quote is attributed to."""
    return (
        qi is not None
        and not in_quote
        and quote_speaker is not None
        and bool(quote_speaker.canonical)
        and spk.canonical != quote_speaker.canonical
    )


def actor_of(tok: Token, ctx: DocContext) -> list[Speaker]:
    """No speaker verb governs the mention: the agent of the nearest clause above it whose subject can hold
    a position ("Abe ORDERED the government to prepare sanctions"), if any."""
    for anc in tok.ancestors:
        if ctx.pos[anc.i] not in ("VERB", "AUX"):
            continue
        subj = ctx.subject(anc)
        if subj is None or subj.i in ctx.mention_roots or subj.i == tok.i:
            continue
        word = ctx.lower[subj.i]
        if word in ctx.lex.first_person or word in RELATIVE or not ctx.is_agent(subj):
            continue
        spk = ctx.speaker_of_subject(subj, None)
        return [spk] if spk is not None and spk.surface else []
    return []


def find_reporters(
    tok: Token,
    sent: Span,
    speakers: list[Speaker],
    outer: list[Speaker],
    pronoun: Token | None,
    quote_speaker: Speaker | None,
    ctx: DocContext,
) -> list[Speaker]:
    """Who reports the holder's position without the rules making it theirs ("China opposes ..., the
    ministry said"; "HE said Germany remains committed"): outer speakers, the quote's speaker, an "according
    to" source, a pronoun reporter, a reporting verb the parser hung below the reported clause; not those of
    another stated affiliation than the holder's."""
    holder = speakers[0]
    found = [*outer, quote_speaker, ctx.according_to(sent), trailing_reporter(tok, sent, ctx)]
    if pronoun is not None:
        found.append(ctx.resolve_pronoun(pronoun))
    keys = {s.canonical or s.surface for s in speakers}
    out: list[Speaker] = []
    for spk in found:
        if spk is None or not spk.surface or spk.surface == UNATTRIBUTED:
            continue
        key = spk.canonical or spk.surface
        if key in keys:
            continue
        if spk.affiliation and holder.affiliation and spk.affiliation != holder.affiliation:
            continue  # "US Ambassador Doe said Moscow opposes ...": not Doe's position
        keys.add(key)
        out.append(spk)
    return out


def speakers_for(
    tok: Token,
    sent: Span,
    holder: Speaker | None,
    pronoun: Token | None,
    outer: list[Speaker],
    quote_speaker: Speaker | None,
    ctx: DocContext,
) -> list[Speaker]:
    """The holder of a reading, plus outer reporters of the same affiliation ("Nebenzia said Russia
    believes ...")."""
    source = ctx.according_to(sent)
    if quote_speaker is not None:
        outer = [*outer, quote_speaker]
    if source is not None:
        outer = [*outer, source]
    if holder is None:
        if pronoun is not None:
            named = [s for s in outer if s.canonical and s is not quote_speaker]
            holder = named[0] if named else (quote_speaker or ctx.resolve_pronoun(pronoun))
        elif quote_speaker is not None:
            holder = quote_speaker
        elif source is not None:
            holder = source
        else:
            holder = _continued_quote_speaker(sent, ctx) or trailing_reporter(tok, sent, ctx) or AUTHOR
    # "the government", "his government", "our country": the side of whoever reports it
    holder_words = [w for w in holder.canonical.lower().split() if w not in POSSESSIVES | QUANTIFIERS]
    phrase = " ".join(holder_words)
    singular = phrase[:-3] + "y" if phrase.endswith("ies") else phrase.removesuffix("s")
    generic = (
        holder.affiliation is None
        and bool(holder_words)
        and (phrase in ctx.lex.generic_holders or singular in ctx.lex.generic_holders)
    )
    reporters = [s for s in outer if s.canonical and s.canonical != holder.canonical]
    if generic and reporters:
        holder = reporters[0]  # "Wong said the government welcomed ...": her government
    elif generic and pronoun is not None:
        resolved = ctx.resolve_pronoun(pronoun)  # "He said the two countries opposed ..."
        holder = resolved if resolved.canonical else holder
    result = [holder]
    keys = {holder.canonical or holder.surface}
    for spk in outer:
        key = spk.canonical or spk.surface
        if key in keys or not spk.canonical:
            continue
        same = holder.affiliation is not None and holder.affiliation in (spk.affiliation, spk.canonical)
        same = same or (spk.affiliation is not None and spk.affiliation == holder.canonical)
        if same:
            result.append(spk)
            keys.add(key)
        elif spk.affiliation is None and holder.affiliation and _is_bare_role(spk, ctx.lex):
            # "the spokesperson said Beijing opposed ...": an unplaced spokesperson speaks for that side
            result.append(Speaker(spk.surface, spk.canonical, holder.affiliation, True, spk.position))
            keys.add(key)
    return result


def states_position(verb: Token, ctx: DocContext) -> bool:
    """A standing position ('China does not support', 'Moscow opposes', 'Tokyo will push'), not a report
    of a past act ('Pyongyang has threatened', 'Iran fired'), and outside any quotation."""
    if ctx.quote_of[verb.i] is not None:
        return False
    auxes = [c for c in verb.children if c.dep_ in ("aux", "auxpass")]
    if any(a.tag_ == "MD" for a in auxes):
        return True
    if ctx.is_attitude(verb):
        return True  # an attitude is a position in any tense ("said Moscow was opposed to ...")
    if any(a.lemma_.lower() == "have" or a.tag_ == "VBD" for a in auxes):
        return False
    return verb.tag_ in ("VBZ", "VBP") or any(a.tag_ in ("VBZ", "VBP") for a in auxes)


def spokesperson_of(holder: Speaker, reporter: Speaker, speakers: list[Speaker], ctx: DocContext) -> list[Speaker]:
    """'Mao Ning said China does not support ...': a person of unstated affiliation who reports a state's
    standing position speaks for that state (analysts and other outside voices excepted)."""
    state = (
        not holder.person
        and holder.affiliation is not None
        and (holder.canonical in ctx.alias_values or ctx.affiliation_of_text(holder.canonical) == holder.affiliation)
    )
    if not state or reporter.affiliation is not None or not reporter.person or not reporter.canonical:
        return []
    if any(s.canonical == reporter.canonical for s in speakers):
        return []
    words = {w.strip(STRIP).lower() for w in reporter.surface.split()}
    if words & ctx.lex.independent_roles:
        return []
    return [Speaker(reporter.surface, reporter.canonical, holder.affiliation, True, reporter.position)]


def _is_bare_role(spk: Speaker, lex: Lexicon) -> bool:
    words = spk.canonical.lower().split()
    return bool(words) and words[-1] in lex.role_nouns and spk.canonical == spk.canonical.lower()


# Not document.governing_verb (the first verb above): a reporting verb after the target that the parser hung below it.
def trailing_reporter(tok: Token, sent: Span, ctx: DocContext) -> Speaker | None:
    """'Talks must resume, the ministers said.' when the parser hangs 'said' under the clause it reports
    (advcl, parataxis, conj) instead of above it: a reporting verb after the target, outside quotes."""
    for i in range(max(sent.start, tok.i + 1), sent.end):
        if ctx.quote_of[i] is not None or ctx.dep[i] not in ("advcl", "parataxis", "conj"):
            continue
        if ctx.lemma[i] not in ctx.lex.reporting_verbs or tok.i in ctx.subtree(i):
            continue
        t = ctx.doc[i]
        subj = ctx.subject(t)
        prev = t.doc[t.i - 1]
        if subj is None and prev.pos_ in ("NOUN", "PROPN") and ctx.is_agent(prev):
            subj = prev  # "..., the bloc's MINISTERS said": the parser hung the subject elsewhere
        if subj is not None and subj.i > tok.i:
            return ctx.speaker_of_subject(subj, None)
    return None


# Not detector.actors.quoted_continuation (a yes/no from quote marks): the speaker of the quote spans found here.
def _continued_quote_speaker(sent: Span, ctx: DocContext) -> Speaker | None:
    """A verbless sentence that quotes someone continues the previous speaker (… North Korea must stop its
    “provocative actions”)."""
    if ctx.speaker_verbs_in(sent.start, sent.end):
        return None
    for i in range(sent.start, sent.end):
        qi = ctx.quote_of[i]
        if qi is not None and ctx.quote_speakers[qi].canonical:
            return ctx.quote_speakers[qi]
    return None
