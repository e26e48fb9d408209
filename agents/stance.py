"""Stance tagging: who says what about sanctions, diplomacy, denuclearization, military action, provocation.

Pure logic over a parsed spaCy ``Doc``; every word list is data (``data/stance_targets.json`` and
``data/stance_cues.json``). The method, per target mention:

1. walk up the dependency tree from the mention, multiplying the valence of each governing word for the
   role the mention plays ("AVOID sanctions" -1, "sanctions cannot REPLACE diplomacy": subject +1 and
   negated), flipping on negation and contrast markers ("instead of"), and collecting the judgements of
   evaluative words on the way (DESTRUCTIVE sanctions, talks are USELESS, OFF THE TABLE);
2. stop at the first speaker verb (reporting or attitude verb) whose subject names the holder; inside a
   quotation, first-person subjects and verbless stretches belong to the quote's speaker, found from the
   reporting verb next to the quote or carried over from the previous quote;
3. resolve pronouns and role nouns ("he", "the Russian ambassador") to the last named speaker of the
   same affiliation, and aggregate one stance per (speaker, target) with all evidence sentences.

Found on statements the rules had not seen (``tests/data/holdout_stance.jsonl``): questions ("asked
WHETHER ...") and refusals ("DECLINED to condemn", "NOTED the decision") take no side; denying or demanding
existence does ("there will be NO talks"); a pronoun a judging verb takes stands for the last target ("called
IT unacceptable"); attitude copulas make speakers ("was CONCERNED by"); a person of unstated affiliation who
reports a state's standing position speaks for it ("Mao said China opposes ..."), unless an outside voice.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from spacy.tokens import Doc, Span, Token

from . import lexicons
from .evidence import Evidence
from .nlp import EntityMention, normalise_name

FAVOR, AGAINST, NEUTRAL = "favor", "against", "neutral"
TARGETS_RESOURCE = "stance_targets.json"
CUES_RESOURCE = "stance_cues.json"
#: Speaker surface of a quotation that no reporting verb attributes (its speaker_canonical is "").
UNATTRIBUTED = "(unattributed quote)"

_OBJECT_DEPS = frozenset({"dobj", "nsubjpass", "xcomp", "ccomp", "attr", "oprd", "dative", "obj", "acomp"})
_SUBJECT_DEPS = frozenset({"nsubj", "csubj"})
_PASS_DEPS = frozenset({"conj", "appos", "compound:prt"})
_NAME_DROP_DEPS = frozenset({"relcl", "appos", "acl", "punct", "advcl", "parataxis"})
_RELATIVE = frozenset({"who", "which", "that", "whom"})
_POSSESSIVES = frozenset({"his", "her", "its", "their", "our", "my"})
_QUANTIFIERS = frozenset({"both", "two", "three", "all"})  # "the two countries opposed ..."
_CONTENT_PREPS = frozenset({"of", "including"})  # "the lifting OF sanctions", "action INCLUDING strikes"
_NOMINAL_POS = frozenset({"DET", "NOUN", "PROPN", "ADJ", "PRON", "NUM"})
_COPULAS = frozenset(
    {"be", "remain", "become", "seem", "have", "pose", "represent", "constitute", "look", "prove"}
)
# heads of speaker phrases that stand for their author ("a statement from the office of X said")
_DOCUMENT_NOUNS = frozenset(
    {
        "statement",
        "report",
        "release",
        "communique",
        "announcement",
        "readout",
        "letter",
        "memo",
        "message",
        "post",
        "declaration",
    }
)
_DESCRIBING_VERBS = frozenset(
    {
        "describe",
        "call",
        "label",
        "brand",
        "term",
        "consider",
        "regard",
        "view",
        "deem",
        "characterize",
        "characterise",
        "dub",
    }
)
_QUOTE_OPEN = "“«„"
_QUOTE_CLOSE = "”»"
_STRIP = " \t\n\"'“”‘’«»,.:;()[]"


# ----------------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Stance:
    """The aggregated stance of one speaker toward one target in one article."""

    speaker: str  # as named in the text ("" for the author's own statements)
    speaker_canonical: str  # canonical name; "" for the author and for speakers that stayed unresolved
    affiliation: str | None
    target: str
    stance: str  # favor / against / neutral
    confidence: float
    evidence: tuple[Evidence, ...]  # strongest first

    @property
    def resolved(self) -> bool:
        """False for a pronoun or an unattributed quote whose speaker the article does not name."""
        return not self.speaker or bool(self.speaker_canonical)

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "speaker_canonical": self.speaker_canonical,
            "affiliation": self.affiliation,
            "target": self.target,
            "stance": self.stance,
            "confidence": self.confidence,
            "evidence": self.evidence[0].to_dict() if self.evidence else None,
            "evidence_all": [e.to_dict() for e in self.evidence],
        }


# ----------------------------------------------------------------------------------------------- lexicon
@dataclass(frozen=True)
class Term:
    """A target term: lemma words with optional part-of-speech constraints."""

    words: tuple[str, ...]
    pos: tuple[str | None, ...]
    target: str
    polarity: int  # -1 for inverse terms (favouring nuclear weapons is against denuclearization)


@dataclass(frozen=True)
class Lexicon:
    """Targets, speaker knowledge and stance cues, as loaded from the two JSON data files."""

    terms: dict[str, tuple[Term, ...]]  # keyed by first word
    excluded_objects: frozenset[str]
    speakers: dict[str, str]
    aliases: dict[str, str]
    titles: dict[str, str]
    role_nouns: frozenset[str]
    predicates: dict[str, dict[str, int]]
    evaluative: dict[str, int]
    phrases: dict[str, int]
    speaker_verbs: frozenset[str]
    negators: frozenset[str]
    contrast_markers: tuple[tuple[str, ...], ...]
    conditional_marks: frozenset[str]
    rhetorical_openers: tuple[str, ...]
    first_person: frozenset[str]
    third_person: frozenset[str]
    default_prep_valence: dict[str, int] = field(default_factory=dict)
    prescriptive_modals: frozenset[str] = frozenset()
    verb_objects: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    modified_nouns: tuple[dict[str, Any], ...] = ()
    intent_modals: frozenset[str] = frozenset()
    generic_holders: frozenset[str] = frozenset()
    causatives: frozenset[str] = frozenset()
    action_verbs: frozenset[str] = frozenset()
    reporting_verbs: frozenset[str] = frozenset()
    goal_marks: frozenset[str] = frozenset()
    agent_nouns: frozenset[str] = frozenset()
    question_marks: frozenset[str] = frozenset()
    neutralizers: dict[str, frozenset[str]] = field(default_factory=dict)
    independent_roles: frozenset[str] = frozenset()
    anaphors: frozenset[str] = frozenset()
    quoting_verbs: frozenset[str] = frozenset()
    attitude_adjectives: frozenset[str] = frozenset()
    light_nouns: frozenset[str] = frozenset()
    predicative_only: frozenset[str] = frozenset()
    targets: tuple[str, ...] = field(default=())


def _parse_term(text: str, target: str, polarity: int) -> Term:
    words: list[str] = []
    pos: list[str | None] = []
    for part in text.lower().split():
        word, _, tag = part.partition("/")
        words.append(word)
        pos.append(tag.upper() or None)
    return Term(tuple(words), tuple(pos), target, polarity)


def build_lexicon(targets: dict[str, Any], cues: dict[str, Any]) -> Lexicon:
    """Build a :class:`Lexicon` from the parsed JSON of the targets and cues files."""
    by_first: dict[str, list[Term]] = {}
    for name, spec in targets["targets"].items():
        for polarity, key in ((1, "terms"), (-1, "inverse_terms")):
            for text in spec.get(key, []):
                term = _parse_term(text, name, polarity)
                by_first.setdefault(term.words[0], []).append(term)
    return Lexicon(
        terms={k: tuple(sorted(v, key=lambda t: -len(t.words))) for k, v in by_first.items()},
        excluded_objects=frozenset(w.lower() for w in targets.get("excluded_objects", [])),
        speakers=dict(targets.get("speakers", {})),
        aliases=dict(targets.get("affiliation_aliases", {})),
        titles={k.lower(): v for k, v in targets.get("titles", {}).items()},
        role_nouns=frozenset(w.lower() for w in targets.get("role_nouns", [])),
        predicates={k.lower(): v for k, v in cues.get("predicates", {}).items()},
        evaluative={k.lower(): int(v) for k, v in cues.get("evaluative", {}).items()},
        phrases={k.lower(): int(v) for k, v in cues.get("phrases", {}).items()},
        speaker_verbs=frozenset(w.lower() for w in cues.get("speaker_verbs", [])),
        negators=frozenset(w.lower() for w in cues.get("negators", [])),
        contrast_markers=tuple(tuple(m.lower().split()) for m in cues.get("contrast_markers", [])),
        conditional_marks=frozenset(w.lower() for w in cues.get("conditional_marks", [])),
        rhetorical_openers=tuple(w.lower() for w in cues.get("rhetorical_openers", [])),
        first_person=frozenset(w.lower() for w in cues.get("first_person", [])),
        third_person=frozenset(w.lower() for w in cues.get("third_person", [])),
        modified_nouns=tuple(
            {
                "target": spec["target"],
                "polarity": int(spec.get("polarity", 1)),
                "modifiers": frozenset(w.lower() for w in spec["modifiers"]),
                "heads": frozenset(w.lower() for w in spec["heads"]),
            }
            for spec in targets.get("modified_nouns", [])
        ),
        verb_objects={
            target: {verb.lower(): frozenset(o.lower() for o in objs) for verb, objs in verbs.items()}
            for target, verbs in targets.get("verb_objects", {}).items()
        },
        intent_modals=frozenset(w.lower() for w in cues.get("intent_modals", [])),
        goal_marks=frozenset(w.lower() for w in cues.get("goal_marks", [])),
        reporting_verbs=frozenset(w.lower() for w in cues.get("reporting_verbs", [])),
        action_verbs=frozenset(w.lower() for w in cues.get("action_verbs", [])),
        agent_nouns=frozenset(w.lower() for w in targets.get("agent_nouns", [])),
        anaphors=frozenset(w.lower() for w in cues.get("anaphors", [])),
        quoting_verbs=frozenset(w.lower() for w in cues.get("quoting_verbs", [])),
        attitude_adjectives=frozenset(w.lower() for w in cues.get("attitude_adjectives", [])),
        light_nouns=frozenset(w.lower() for w in cues.get("light_nouns", [])),
        predicative_only=frozenset(w.lower() for w in cues.get("predicative_only", [])),
        question_marks=frozenset(w.lower() for w in cues.get("question_marks", [])),
        neutralizers={k.lower(): frozenset(v) for k, v in cues.get("neutralizers", {}).items()},
        independent_roles=frozenset(w.lower() for w in targets.get("independent_roles", [])),
        causatives=frozenset(w.lower() for w in cues.get("causatives", [])),
        generic_holders=frozenset(w.lower() for w in targets.get("generic_holders", [])),
        prescriptive_modals=frozenset(w.lower() for w in cues.get("prescriptive_modals", [])),
        default_prep_valence={k.lower(): int(v) for k, v in cues.get("default_prep_valence", {}).items()},
        targets=tuple(targets["targets"]),
    )


def _read_json(path: str | Path | None, resource: str) -> dict[str, Any]:
    if path is None:
        return lexicons.load(resource)  # shipped data file + the user's extension (WIREWATCH_LEXICON_DIR)
    return json.loads(Path(path).read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def load_lexicon(targets_path: str | None = None, cues_path: str | None = None) -> Lexicon:
    """Load the lexicon from the shipped data files, or from the given paths (cached)."""
    return build_lexicon(_read_json(targets_path, TARGETS_RESOURCE), _read_json(cues_path, CUES_RESOURCE))


lexicons.on_change(load_lexicon.cache_clear)


# ----------------------------------------------------------------------------------------------- speakers
@dataclass(frozen=True)
class _Speaker:
    surface: str
    canonical: str  # "" = unresolved (or the author when surface is "")
    affiliation: str | None
    person: bool
    position: int  # char offset where it was named


_AUTHOR = _Speaker("", "", None, False, 0)


@dataclass(frozen=True)
class _Mention:
    target: str
    polarity: int
    root: Token
    start: int  # token indices [start, end)
    end: int


def _find_mentions(doc: Doc, lex: Lexicon) -> list[_Mention]:
    """Target mentions, longest term first, left to right, without overlaps."""
    found: list[_Mention] = []
    i = 0
    while i < len(doc):
        tok = doc[i]
        candidates = lex.terms.get(tok.lemma_.lower(), ()) + lex.terms.get(tok.lower_, ())
        match: tuple[Term, int] | None = None
        for term in sorted(candidates, key=lambda t: -len(t.words)):
            j = i + len(term.words)
            if j > len(doc):
                continue
            if all(
                w in (doc[k].lemma_.lower(), doc[k].lower_) and (p is None or doc[k].pos_ == p)
                for k, w, p in zip(range(i, j), term.words, term.pos, strict=True)
            ):
                match = (term, j)
                break
        if match is None:
            hit = _verb_object_target(tok, lex) or _modified_noun_target(tok, lex)
            if hit is not None:  # "vowed to continue LAUNCHING satellites", "nuclear and missile PROGRAMMES"
                found.append(_Mention(hit[0], hit[1], tok, i, i + 1))
            i += 1
            continue
        term, j = match
        span = doc[i:j]
        root = span.root
        excluded = root.pos_ == "VERB" and any(
            c.dep_ == "dobj" and c.lemma_.lower() in lex.excluded_objects for c in root.children
        )
        if not excluded:
            found.append(_Mention(term.target, term.polarity, root, i, j))
        i = j
    return found


def _verb_object_target(tok: Token, lex: Lexicon) -> tuple[str, int] | None:
    """The target of a verb that is one only with certain objects ("launch" a missile, not a campaign)."""
    if tok.pos_ != "VERB":
        return None
    for target, verbs in lex.verb_objects.items():
        objects = verbs.get(tok.lemma_.lower())
        if objects and any(
            c.dep_ == "dobj" and (c.lemma_.lower() in objects or f"@{c.ent_type_.lower()}" in objects)
            for c in tok.children
        ):  # "@PERSON" stands for any person named as the object ("agreed to MEET Trump")
            return target, 1
    return None


def _modified_noun_target(tok: Token, lex: Lexicon) -> tuple[str, int] | None:
    """A noun that is a target through a modifier that need not stand next to it ("nuclear and missile
    programmes")."""
    if tok.pos_ != "NOUN":
        return None
    mods = [c for c in tok.children if c.dep_ in ("amod", "compound")]
    mods += [x for c in mods for x in c.children if x.dep_ == "conj"]
    words = {m.lemma_.lower() for m in mods} | {m.lower_ for m in mods}
    for spec in lex.modified_nouns:
        if tok.lemma_.lower() in spec["heads"] and words & spec["modifiers"]:
            return spec["target"], spec["polarity"]
    return None


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of quoted material; an unclosed quote ends with its paragraph."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for para in text.split("\n"):
        open_at: int | None = None
        for k, ch in enumerate(para):
            if ch in _QUOTE_OPEN and open_at is None:
                open_at = k + 1
            elif ch in _QUOTE_CLOSE and open_at is not None:
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


class _Context:
    """Per-document state: quotes, speakers named so far, entity lookups."""

    def __init__(self, doc: Doc, entities: Sequence[EntityMention], lex: Lexicon) -> None:
        self.doc = doc
        self.lex = lex
        self.entities = list(entities) or _fallback_entities(doc)
        self.alias_values = set(lex.aliases.values())
        self.text = doc.text  # Doc.text is rebuilt on every access
        self.quotes = _quote_spans(self.text)
        self.starts = [tok.idx for tok in doc]
        self.quote_tokens: list[list[Token]] = []
        self.quote_of: list[int | None] = [None] * len(doc)
        for qi, (s, e) in enumerate(self.quotes):
            toks = [doc[i] for i in range(bisect_left(self.starts, s), bisect_left(self.starts, e))]
            self.quote_tokens.append(toks)
            for tok in toks:
                if not tok.is_quote:
                    self.quote_of[tok.i] = qi
        self.sents = list(doc.sents)
        self.sent_index = [0] * len(doc)
        for si, sent in enumerate(self.sents):
            for tok in sent:
                self.sent_index[tok.i] = si
        self.mention_roots: set[int] = set()  # token indices of target mentions
        self.history: list[_Speaker] = []  # directly named speakers, in text order
        self._build_history()
        self.quote_speakers: list[_Speaker] = self._attribute_quotes()

    # -- entities and names
    def ents_in(self, start: int, end: int) -> list[EntityMention]:
        return [m for m in self.entities if m.start < end and m.end > start]

    def affiliation_of_text(self, text: str) -> str | None:
        return self.lex.aliases.get(text) or self.lex.aliases.get(normalise_name(text))

    def _affiliation(self, canonical: str, surface: str, tokens: list[Token]) -> str | None:
        lex = self.lex
        if canonical in lex.speakers:
            return lex.speakers[canonical]
        for name, aff in lex.speakers.items():
            if canonical and name.split()[-1] == canonical.split()[-1] and " " not in canonical:
                return aff
        direct = self.affiliation_of_text(surface) or (canonical if canonical in self.alias_values else None)
        if direct:
            return direct
        if not tokens:
            return None
        start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
        for ent in self.ents_in(start, end):
            if ent.label in ("GPE", "NORP", "ORG"):
                aff = self.affiliation_of_text(ent.text) or self.affiliation_of_text(ent.canonical)
                if aff or ent.canonical in self.alias_values:
                    return aff or ent.canonical
        for tok in tokens:
            aff = self.lex.aliases.get(tok.text)
            if aff:
                return aff
        for tok in tokens:
            if tok.lower_ in lex.titles:
                return lex.titles[tok.lower_]
        return None

    def _phrase_tokens(self, head: Token) -> list[Token]:
        drop: set[int] = set()
        for child in head.children:
            if child.dep_ in _NAME_DROP_DEPS:
                drop.update(t.i for t in child.subtree)
        kept = [t for t in head.subtree if t.i not in drop]
        lo, hi = min(t.i for t in kept), max(t.i for t in kept)
        toks = [t for t in self.doc[lo : hi + 1] if t.i not in drop]
        while toks and (toks[0].dep_ == "det" or toks[0].is_punct or toks[0].is_quote):
            toks = toks[1:]
        while toks and (toks[-1].is_punct or toks[-1].is_quote or toks[-1].tag_ == "POS"):
            toks = toks[:-1]
        return toks or [head]

    def named_speaker(self, head: Token) -> _Speaker:
        """A speaker from a noun phrase headed by ``head`` (no pronoun resolution)."""
        if head.lemma_.lower() in _DOCUMENT_NOUNS:  # "a statement from the office of X said"
            for tok in head.subtree:
                if tok.dep_ == "pobj" and tok.head.lower_ in ("by", "from", "of") and tok.head.head == head:
                    return self.named_speaker(tok)
                if tok.dep_ == "pobj" and tok.head.dep_ == "agent":
                    return self.named_speaker(tok)
        toks = self._phrase_tokens(head)
        surface = self.doc[toks[0].i : toks[-1].i + 1].text
        start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
        # entities reaching outside the phrase are NER slips ("Ruiz later"): they do not name it
        # ... but one that only runs on through a hyphen ("Moon Jae|-in", split by the parser) does
        ents = [
            m
            for m in self.ents_in(start, end)
            if m.start >= start and (m.end <= end or not any(ch.isspace() for ch in self.text[end : m.end]))
        ]
        appos = [t for c in head.children if c.dep_ == "appos" for t in c.subtree]
        persons = [m for m in ents if m.label == "PERSON"]
        if not persons and appos and head.lemma_.lower() in self.lex.role_nouns:
            # "the Russian envoy, Vasily Nebenzia, argued": the role's holder is named in apposition
            persons = [
                m
                for m in self.ents_in(appos[0].idx, appos[-1].idx + len(appos[-1].text))
                if m.label == "PERSON"
            ]
        has_conj = any(c.dep_ == "conj" for c in head.children)
        head_ent = next((m for m in ents if m.start <= head.idx < m.end), None)
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
        if " " not in canonical and canonical[:1].isupper():
            canonical = self._full_name(canonical)
        affiliation = self._affiliation(canonical, surface, toks + appos)
        person = bool(persons) or head.lemma_.lower() in self.lex.role_nouns
        return _Speaker(surface, canonical, affiliation, person, head.idx)

    def _appos_name(self, head: Token) -> str | None:
        """The name in apposition to a role noun when NER did not tag it a person ("the deputy ambassador,
        Dmitry Polyanskiy,"): two or more capitalised proper nouns."""
        if head.lemma_.lower() not in self.lex.role_nouns:
            return None
        for c in head.children:
            if c.dep_ != "appos":
                continue
            words = [t for t in c.subtree if not (t.is_punct or t.is_quote)]
            if len(words) >= 2 and all(t.pos_ == "PROPN" and t.text[:1].isupper() for t in words):
                name = normalise_name(self.doc[words[0].i : words[-1].i + 1].text)
                if name not in self.alias_values and not self.affiliation_of_text(name):
                    return name  # not a place or body ("the envoy, North Korea, ...")
        return None

    def _full_name(self, surname: str) -> str:
        """A bare surname of a person named in full elsewhere in the article ("Ruiz" -> "Ana Ruiz")."""
        full = {
            m.canonical for m in self.entities if m.label == "PERSON" and m.canonical.split()[-1] == surname
        }
        full |= {s.canonical for s in self.history if s.person and s.canonical.split()[-1:] == [surname]}
        full.discard(surname)
        return full.pop() if len(full) == 1 else surname

    def is_role_only(self, head: Token) -> bool:
        """A role noun with no person named in its phrase ("the Russian ambassador")."""
        if head.lemma_.lower() not in self.lex.role_nouns or self._appos_name(head):
            return False
        end = max(
            [head.idx + len(head.text)]
            + [t.idx + len(t.text) for c in head.children if c.dep_ == "appos" for t in c.subtree]
        )
        return not any(m.label == "PERSON" for m in self.ents_in(head.left_edge.idx, end))

    def resolve_role(self, head: Token) -> _Speaker:
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
                return _Speaker(
                    own.surface, prev.canonical, prev.affiliation or own.affiliation, True, head.idx
                )
        return own

    def resolve_pronoun(self, tok: Token) -> _Speaker:
        word = tok.lower_
        person = word in ("he", "she", "him", "her")
        for prev in reversed(self.history):
            if prev.position < tok.idx and prev.person == person:
                return _Speaker(tok.text, prev.canonical, prev.affiliation, prev.person, tok.idx)
        if person:
            for ent in reversed(self.entities):
                if ent.label == "PERSON" and ent.end <= tok.idx:
                    aff = self._affiliation(ent.canonical, ent.text, [])
                    return _Speaker(tok.text, ent.canonical, aff, True, tok.idx)
        return _Speaker(tok.text, "", None, person, tok.idx)

    def speaker_of_subject(self, subj: Token, quote_speaker: _Speaker | None) -> _Speaker | None:
        """The speaker a subject token names; None for a first person outside quotes."""
        word = subj.lower_
        if word in self.lex.first_person:
            return quote_speaker
        if word in _RELATIVE and subj.head.dep_ == "relcl":
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
        lemma = tok.lemma_.lower()
        for c in tok.children:
            if c.dep_ in ("prt", "advmod", "prep") and c.i > tok.i:
                key = f"{lemma} {c.lower_}"
                if c.dep_ == "prt" or key in self.lex.predicates or key in self.lex.speaker_verbs:
                    return key
        return lemma

    def is_agent(self, tok: Token) -> bool:
        """Can this noun hold a position? Names, pronouns, roles and bodies can; "a resolution" cannot."""
        if tok.pos_ in ("PROPN", "PRON") or tok.ent_type_:
            return True
        lemma = tok.lemma_.lower()
        return (
            lemma in self.lex.role_nouns or lemma in self.lex.generic_holders or lemma in self.lex.agent_nouns
        )

    def holds(self, verb: Token, subj: Token) -> bool:
        """Whether ``subj`` is the holder of a position expressed by speaker verb ``verb``."""
        if subj.lower_ in _RELATIVE and subj.head.dep_ == "relcl":
            return self.is_agent(subj.head.head)  # "a resolution that called for ..." holds nothing
        # whatever "says" something is its speaker; attitudes and acts show a stance only when an agent has
        # them: "new sanctions could PUSH Iran away" does not make the sanctions a speaker
        if subj.i in self.mention_roots:
            return False  # "its missile ATTACK ... was a response": a target is not its own speaker
        if verb.lemma_.lower() in self.lex.reporting_verbs:
            return True
        return self.is_agent(subj) or subj.lemma_.lower() in _DOCUMENT_NOUNS

    def is_speaker_verb(self, tok: Token) -> bool:
        if tok.pos_ not in ("VERB", "AUX"):
            return tok.pos_ == "ADJ" and self.is_attitude(tok)
        verbs = self.lex.speaker_verbs | self.lex.action_verbs
        return self.pred_key(tok) in verbs or tok.lemma_.lower() in verbs or self.is_attitude(tok)

    def is_attitude(self, tok: Token) -> bool:
        """A copula with an attitude adjective ("Guterres WAS deeply CONCERNED by the launch", "Seoul
        REMAINS COMMITTED to ..."): its subject holds the attitude."""
        attitudes = self.lex.attitude_adjectives
        if tok.lower_ in attitudes and any(c.dep_ == "auxpass" for c in tok.children):
            return True  # parsed as a passive: "Guterres was CONCERNED by the launch"
        return tok.lemma_.lower() in _COPULAS and any(
            c.dep_ == "acomp" and c.lemma_.lower() in attitudes for c in tok.children
        )

    def _build_history(self) -> None:
        for tok in self.doc:
            if not self.is_speaker_verb(tok):
                continue
            subj = subject_of(tok, self.lex)
            if subj is None:
                continue
            if subj.lower_ in self.lex.first_person | self.lex.third_person | _RELATIVE:
                continue
            if self.is_role_only(subj):
                self.history.append(self.resolve_role(subj))  # "he" may refer back to "the envoy"
            else:
                self.history.append(self.named_speaker(subj))

    def _attribute_quotes(self) -> list[_Speaker]:
        speakers: list[_Speaker] = []
        last_sent = -10
        for (s, e), toks in zip(self.quotes, self.quote_tokens, strict=True):
            if not toks:
                speakers.append(_Speaker(UNATTRIBUTED, "", None, False, s))
                continue
            first, last = self.sent_index[toks[0].i], self.sent_index[toks[-1].i]
            hi = last
            if self.text[:e].rstrip()[-1:] in (",", "?", "!", "—") and last + 1 < len(self.sents):
                hi = last + 1  # '"...," Craft said' split into its own sentence
            region = [t for si in range(first, hi + 1) for t in self.sents[si] if self.quote_of[t.i] is None]
            verbs = [t for t in region if self.is_speaker_verb(t) and subject_of(t, self.lex) is not None]
            speaker: _Speaker | None = None
            if verbs:
                verb = min(verbs, key=lambda t: min(abs(t.idx - s), abs(t.idx - e)))
                subj = subject_of(verb, self.lex)
                assert subj is not None
                speaker = self.speaker_of_subject(subj, None)
            if speaker is None and speakers and first - last_sent <= 1:
                speaker = speakers[-1]  # a continued quote: no verb of its own
            speakers.append(speaker or _Speaker(UNATTRIBUTED, "", None, False, s))
            last_sent = last
        return speakers

    def according_to(self, sent: Span) -> _Speaker | None:
        for tok in sent:
            if tok.lower_ == "according" and self.quote_of[tok.i] is None:
                for prep in tok.children:
                    if prep.lower_ == "to":
                        pobj = next((c for c in prep.children if c.dep_ == "pobj"), None)
                        if pobj is not None:
                            return self.speaker_of_subject(pobj, None)
        return None


def _fallback_entities(doc: Doc) -> list[EntityMention]:
    return [
        EntityMention(e.text, e.label_, e.start_char, e.end_char, normalise_name(e.text), 1) for e in doc.ents
    ]


def subject_of(verb: Token, lex: Lexicon | None = None) -> Token | None:
    """The subject of ``verb``, inherited through coordination, participles and control.

    With a lexicon: a reporting participle that the parser hangs on a reported clause belongs to the
    reporter (in "Lee said Seoul would act, ADDING that ...", the adding is Lee's, not Seoul's), and the
    one quoted "as saying" is the object of the quoting verb ("KCNA QUOTED Kim as saying").
    """
    reporting = lex.reporting_verbs if lex is not None else frozenset()
    quoting = lex.quoting_verbs if lex is not None else frozenset()
    if lex is not None and verb.lower_ in lex.attitude_adjectives:
        # "Guterres was concerned BY the launch": the one concerned, not the passive's agent
        holder = next((c for c in verb.children if c.dep_ in ("nsubjpass", "nsubj")), None)
        if holder is not None:
            return holder
    if (
        verb.dep_ == "pcomp"
        and verb.head.lower_ == "as"
        and verb.head.head.lemma_.lower() in quoting
        and verb.lemma_.lower() in reporting
    ):
        quoted = next((c for c in verb.head.head.children if c.dep_ == "dobj"), None)
        if quoted is not None:
            return quoted
    if (
        verb.lemma_.lower() in reporting
        and verb.dep_ == "advcl"
        and verb.tag_ == "VBG"
        and verb.head.dep_ == "ccomp"
        and verb.head.head.pos_ in ("VERB", "AUX")
        and verb.head.head.lemma_.lower() in reporting
    ):
        verb = verb.head.head
    seen = 0
    while seen < 6:
        seen += 1
        for child in verb.children:
            if child.dep_ in ("nsubj", "csubj"):
                return child
        for child in verb.children:
            if child.dep_ == "agent":
                pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
                if pobj is not None:
                    return pobj
        if any(c.dep_ in ("nsubjpass", "csubjpass") for c in verb.children):
            return None  # a passive without its agent: the subject of another clause is not its holder
        head = verb.head
        if head.i == verb.i:
            return None
        if verb.dep_ == "xcomp":
            obj = next((c for c in head.children if c.dep_ in ("dobj", "dative")), None)
            if obj is not None and (obj.pos_ in ("PROPN", "PRON") or obj.ent_type_):
                return obj  # object control: "prompting Trump to urge ..."
            verb = head
        elif (verb.dep_ == "conj" and head.pos_ in ("VERB", "AUX")) or (
            verb.dep_ == "advcl" and verb.tag_ in ("VBG", "VBN") and head.pos_ in ("VERB", "AUX")
        ):  # "... and have called on", "..., saying"; a finite adverbial clause has a subject of its own
            verb = head
        elif verb.dep_ == "relcl":
            return head
        else:
            return None
    return None


# ----------------------------------------------------------------------------------------------- scoring
def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


class _Scorer:
    """Valences, negation and evaluations on the dependency tree."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.lex = ctx.lex

    def negated(self, tok: Token) -> bool:
        doc = tok.doc
        for c in tok.children:
            if c.dep_ == "neg" or (c.lower_ in self.lex.negators and c.dep_ in ("det", "advmod", "preconj")):
                # ", not threats," contrasts a noun phrase: it does not negate the verb it hangs from
                nxt = doc[c.i + 1] if c.i + 1 < len(doc) else None
                if c.i > 0 and doc[c.i - 1].text == "," and nxt is not None and nxt.pos_ in _NOMINAL_POS:
                    continue
                return True
        return False

    def valence(self, head: Token, role: str, via: Token | None = None) -> int:
        """The valence ``head`` gives a phrase in ``role`` (reached through its child ``via``); a copula
        lends its adjective's ('are destructive TO')."""
        if role == "object" and head.lemma_.lower() in _DESCRIBING_VERBS and _describes(head, via):
            return 0  # "CONSIDERED the sanctions a declaration of war": a description, judged by its words
        if via is not None and via.dep_ in _OBJECT_DEPS:
            dep_specific = self._own_valence(head, via.dep_)
            if dep_specific:
                return dep_specific
        own = self._own_valence(head, role)
        if not own and head.pos_ == "VERB" and role not in ("object", "subject", "compound"):
            # "expressed concern OVER the launch", "return to compliance WITH the deal": the noun governs
            nouns = [c for c in head.children if c.dep_ == "dobj"]
            nouns += [p for c in head.children if c.dep_ == "prep" for p in c.children if p.dep_ == "pobj"]
            for noun in nouns:
                own = self._listed_valence(noun, role)
                if own:
                    own = -own if self.negated(noun) else own  # "saw NO point in resuming talks"
                    break
        if role == "subject" and any(
            (c.dep_ == "aux" and c.lower_ in self.lex.prescriptive_modals | self.lex.intent_modals)
            or (c.dep_ == "mark" and c.lower_ in self.lex.goal_marks)
            for c in head.children
        ):
            own = own or self._listed_valence(head, "subject_must")  # "dialogue MUST continue"
        if (
            own < 0
            and via is not None
            and via.dep_ == "xcomp"
            and any(c.dep_ == "aux" and c.lower_ == "to" for c in via.children)
        ):
            return 0  # "must stop now TO GIVE space": a purpose clause, not what is stopped
        if own or role in ("object", "subject", "compound") or head.lemma_.lower() not in _COPULAS:
            return own
        for c in head.children:
            if c.dep_ == "acomp":
                v = self._own_valence(c, role)
                if v:
                    return v
        return 0

    def _own_valence(self, head: Token, role: str) -> int:
        v = self._listed_valence(head, role)
        if not v and head.pos_ in ("VERB", "AUX") and head.i not in self.ctx.mention_roots:
            # "campaigned AGAINST sanctions"; but "retaliate against an attack" is no opposition
            v = self.lex.default_prep_valence.get(role, 0)
        return v

    def _listed_valence(self, head: Token, role: str) -> int:
        entries = self.lex.predicates
        key = self.ctx.pred_key(head)
        lemma, pos = head.lemma_.lower(), head.pos_.lower()
        for k in (f"{key}/{pos}", key, f"{lemma}/{pos}", lemma):
            entry = entries.get(k)
            if entry is not None:
                return int(entry.get(role, 0))
        base = lemma.removeprefix("re").removeprefix("-")
        if head.pos_ == "VERB" and base != lemma and len(base) >= 4 and base in entries:
            return int(entries[base].get(role, 0))  # "REimpose sanctions", "RE-enter the talks"
        return 0

    def word_eval(self, tok: Token) -> int:
        lemma = tok.lemma_.lower()
        if lemma in self.lex.light_nouns:  # "an ACT of aggression", "the HEIGHT of absurdity"
            for prep in tok.children:
                if prep.dep_ == "prep" and prep.lower_ == "of":
                    for pobj in prep.children:
                        if pobj.dep_ == "pobj":
                            return self.lex.evaluative.get(pobj.lemma_.lower(), 0)
        return self.lex.evaluative.get(lemma, self.lex.evaluative.get(tok.lower_, 0))

    def modifier_eval(self, tok: Token, skip: Token | None = None) -> int:
        """Judgements of a noun by its modifiers: amod adjectives and relative clauses (but ``skip``, the
        branch the walk came up through)."""
        total = 0
        for c in tok.children:
            if skip is not None and c.i == skip.i:
                continue
            if c.dep_ == "amod":
                for a in [c, *(x for x in c.children if x.dep_ == "conj")]:
                    if a.lemma_.lower() in self.lex.predicative_only:
                        continue  # "a POSSIBLE launch" hedges, "a deal is possible" judges
                    total += self.word_eval(a) * (-1 if self.negated(a) else 1)
            elif c.dep_ == "relcl" and any(
                x.lower_ in _RELATIVE for x in c.children if x.dep_ in _SUBJECT_DEPS
            ):
                e = self.valence(c, "subject") + self.predicate_eval(c)
                total += -e if self.negated(c) else e
            elif c.dep_ == "relcl" and c.lemma_.lower() in _DESCRIBING_VERBS:
                e = self.describe_eval(c)  # "the launch, which she described as reckless"
                total += -e if self.negated(c) else e
        return _sign(total)

    def phrase_eval(self, tokens: Iterable[Token]) -> int:
        text = " ".join(t.lower_ for t in tokens)
        return sum(v for p, v in self.lex.phrases.items() if f" {p} " in f" {text} ")

    def predicate_eval(self, head: Token) -> int:
        """Judgement a copula-like predicate passes on its subject (is useless / had no negative effect)."""
        lemma = head.lemma_.lower()
        total = 0
        for c in head.children:
            if c.dep_ in ("acomp", "attr", "oprd") or (c.dep_ == "dobj" and lemma in _COPULAS):
                # "were proportionate and lawful": coordinated predicates judge together
                e = sum(self.word_eval(x) for x in (c, *(x for x in c.children if x.dep_ == "conj")))
                e += self.modifier_eval(c)
                if c.dep_ == "dobj" and not e:
                    e = self.phrase_eval(c.subtree)
                else:
                    e += self.phrase_eval(c.subtree)
                total += -_sign(e) if self.negated(c) else _sign(e)
            elif c.dep_ in ("prep", "advmod") and lemma in _COPULAS:
                total += self.phrase_eval(c.subtree)
        if lemma not in _COPULAS:
            objects = [t for c in head.children if c.dep_ == "dobj" for t in c.subtree]
            total += self.phrase_eval([head, *objects])
            if self.ctx.pred_key(head) in self.lex.causatives:
                # "only negotiations can bring lasting PEACE": the subject takes its effect's value
                for c in head.children:
                    if c.dep_ == "dobj":
                        e = self.word_eval(c) + self.modifier_eval(c)
                        total += -_sign(e) if self.negated(c) else _sign(e)
        return _sign(total)

    def describe_eval(self, head: Token, skip: Token | None = None) -> int:
        """'described the launch as a grave provocation': the judgement in the 'as' phrase or complement
        (but ``skip``, the branch the target is in: the description judges its object, not itself)."""
        total = 0
        for c in head.children:
            if skip is not None and c.i == skip.i:
                continue
            if c.dep_ == "oprd" or (c.dep_ == "ccomp" and c.pos_ == "ADJ"):
                total += self.word_eval(c) + self.modifier_eval(c)
            elif c.dep_ == "prep" and c.lower_ == "as":
                for p in c.children:  # "as a grave provocation", "as constructive"
                    if not (p.is_punct or p.is_quote):
                        total += self.word_eval(p) + self.modifier_eval(p)
        return _sign(total)

    def clause_eval(self, head: Token) -> int:
        """Judgement a main clause passes on a conditional under it ('I would be disappointed if ...')."""
        return _sign(self.predicate_eval(head) + self.word_eval(head))

    def contrast(self, tok: Token) -> bool:
        doc = tok.doc
        for marker in self.lex.contrast_markers:
            lo = tok.i - len(marker) + 1
            if lo >= 0 and tuple(t.lower_ for t in doc[lo : tok.i + 1]) == marker:
                return True
        return False


@dataclass
class _Reading:
    speakers: list[_Speaker]
    vote: int  # -1, 0, +1
    weight: int
    evidence: Evidence
    judged: bool  # an evaluative word or phrase took part (the only stance an author's own text shows)
    mention: _Mention


def _evidence(sent: Span, tok: Token, text: str) -> Evidence:
    """The sentence around ``tok``, cut at paragraph breaks (the parser may run a sentence across them)."""
    start, end = sent.start_char, sent.end_char
    start = max(start, text.rfind("\n", 0, tok.idx) + 1)
    nl = text.find("\n", tok.idx)
    end = min(end, nl) if nl >= 0 else end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Evidence(text[start:end], start, end)


def _read_mention(m: _Mention, ctx: _Context, scorer: _Scorer) -> _Reading | None:
    """Walk from a target mention to its speaker, scoring the cues on the way."""
    lex = ctx.lex
    tok = m.root
    sign = m.polarity * (-1 if scorer.negated(tok) else 1)
    votes: list[int] = []
    e = scorer.modifier_eval(tok)
    if e:
        votes.append(sign * e)
    judged = bool(votes)
    for c in tok.children:
        if c.dep_ in ("amod", "compound") and c.tag_ == "VBG" and c.i < tok.i:
            v = scorer.valence(c, "object")  # "opposed lifting sanctions" parsed with "lifting" as a modifier
            if v:
                sign *= v
                votes_from_modifier = True
                break
    else:
        votes_from_modifier = False
    # a target verb carries its own stance: "Tehran would NOT negotiate", "we WILL strike"
    cue = votes_from_modifier or (
        tok.pos_ == "VERB"
        and (
            scorer.negated(tok)
            or any(c.dep_ == "aux" and c.lower_ in lex.intent_modals for c in tok.children)
            or any(c.dep_ in _SUBJECT_DEPS and c.lower_ in lex.first_person for c in tok.children)
        )
    ) or _denied_or_required_existence(tok, scorer)
    frozen = evaluated = judged_cue = False
    entered_as: str | None = None  # the role of the phrase by which the walk entered the current node
    holder: _Speaker | None = None
    holder_verb: Token | None = None
    pronoun: Token | None = None
    outer: list[_Speaker] = []
    endorsers: list[_Speaker] = []
    qi = ctx.quote_of[tok.i]
    quote_speaker = ctx.quote_speakers[qi] if qi is not None else None
    node = tok
    span_ids = set(range(m.start, m.end))
    for _ in range(40):
        head = node.head
        if head.i == node.i:
            break
        rel = node.dep_
        via = node  # the child of ``head`` the walk comes up through
        role: str | None = None
        if rel in ("pobj", "pcomp") and (head.pos_ in ("ADP", "SCONJ") or head.dep_ in ("prep", "agent")):
            if not frozen and scorer.contrast(head):
                sign, cue = -sign, True
            role = head.lower_  # the preposition as written ("including" lemmatises to "include")
            if head.head.i == head.i:
                break
            via = head
            head = head.head
            if (
                head.dep_ in ("prep", "prt", "advmod")
                and head.head.pos_ == "VERB"
                and ctx.pred_key(head.head) == f"{head.head.lemma_.lower()} {head.lower_}"
            ):  # "pull OUT of the talks": the preposition hangs from the verb's particle
                via, head = head, head.head
            # "negotiations UNDER sanctions were pointless" judges the negotiations, not the sanctions: a
            # circumstantial phrase passes nothing up, but the walk goes on to find the speaker
            if not frozen and role not in _CONTENT_PREPS and not scorer.valence(head, role, via):
                frozen = True
        elif rel in _OBJECT_DEPS:
            role = "object"
        elif rel in _SUBJECT_DEPS:
            role = "subject"
        elif rel == "compound":
            role = "compound"
        elif rel == "acl":
            role = "acl"  # "the right TO ENRICH uranium", "its refusal to negotiate"
        if head.i in span_ids:
            node = head
            continue
        # a target inside a conditional clause counts only through a judgement of the main clause
        marks = {c.lower_ for c in node.children if c.dep_ == "mark"}
        if rel in ("ccomp", "pcomp", "xcomp", "acl") and (
            marks | {c.lower_ for c in node.children if c.dep_ == "advmod" and c.i < node.i}
        ) & lex.question_marks:
            return None  # "asked WHETHER talks were planned", "no decision on WHETHER to strike": no side
        cancels = lex.neutralizers.get(ctx.pred_key(head)) or lex.neutralizers.get(head.lemma_.lower(), ())
        if via.dep_ in cancels or (via.dep_ == "prep" and via.lower_ in cancels):
            return None  # "DECLINED to condemn the launch", "NOTED the decision": no side taken
        if rel == "advcl" and marks & lex.goal_marks:
            frozen = True  # "... until Pyongyang takes steps toward denuclearization": a sought end state
        if rel == "advcl" and marks & lex.conditional_marks:
            if holder is not None and not evaluated:
                return None  # the holder's position is itself hypothetical ("if North Korea decides ...")
            if not frozen:
                ev = scorer.clause_eval(head)
                if not ev:
                    return None
                votes.append(sign * ev * (-1 if scorer.negated(head) else 1))
                frozen = evaluated = judged = True
                cue = False  # the chain so far is consumed by the main clause's judgement
        if rel == "conj":
            pass  # a conjunct shares its head's role; the head's own negation and cues are not its
        elif not frozen:
            v = scorer.valence(head, role, via) if role else 0
            if not v and not cue and rel == "ccomp" and entered_as == "subject":
                v = scorer.valence(head, "ccomp_subject")  # "warned that new SANCTIONS could push ..."
            if v:
                sign, cue = sign * v, True
            if scorer.negated(head):
                sign = -sign
        if not frozen and rel != "conj":
            evals = []
            if role == "subject":
                evals.append(scorer.predicate_eval(head))
                if head.pos_ in ("ADJ", "NOUN") and head.dep_ in ("ccomp", "xcomp", "oprd"):
                    # a verbless clause: "considers [the sanctions UNJUST]", "called [talks a MISTAKE]"
                    evals.append(_sign(scorer.word_eval(head) + scorer.modifier_eval(head)))
            elif role == "object" and head.lemma_.lower() in _DESCRIBING_VERBS:
                evals.append(scorer.describe_eval(head, skip=via))
            if head.pos_ in ("NOUN", "PROPN"):
                evals.append(scorer.modifier_eval(head, skip=via))
            for ev in evals:
                if ev:
                    votes.append(sign * ev)
                    judged = True
                    # "the decision to PULL OUT of talks was a MISTAKE": the judgement covers the cue
                    judged_cue = judged_cue or cue
        asked_of = (  # "urged North Korea TO ABANDON ...": what a speaker asks of someone is not theirs
            head.dep_ == "xcomp"
            and ctx.is_speaker_verb(head.head)
            and not any(c.dep_ in _SUBJECT_DEPS for c in head.children)
        )
        if (
            ctx.is_speaker_verb(head)
            and not asked_of
            and not any(c.dep_ == "aux" and c.lower_ in lex.prescriptive_modals for c in head.children)
        ):
            subj = subject_of(head, lex)
            in_quote = ctx.quote_of[head.i] is not None
            if subj is not None and ctx.holds(head, subj):
                word = subj.lower_
                if word in lex.first_person and in_quote:
                    spk = quote_speaker
                    if holder is not None and spk is not None:
                        endorsers.append(spk)  # "I am announcing that the United States will withdraw"
                elif word in lex.third_person:
                    pronoun = pronoun or subj
                    spk = None
                elif word in _RELATIVE and subj.head.dep_ != "relcl":
                    spk = None
                else:
                    spk = ctx.speaker_of_subject(subj, quote_speaker)
                if spk is not None:
                    if holder is None:
                        holder, holder_verb = spk, head
                        frozen = True
                    else:
                        outer.append(spk)
        if rel != "conj":
            entered_as = role
        node = head
    if cue and not judged_cue:
        votes.append(sign)
    if not votes:
        return None
    sent = ctx.sents[ctx.sent_index[tok.i]]
    # a rhetorical question denies what it asks ("Why would we agree to denuclearization?")
    stext = sent.text.strip(_STRIP + "?").lower()
    if sent.text.rstrip(_STRIP.replace("?", "")).endswith("?") and stext.startswith(lex.rhetorical_openers):
        votes = [-v for v in votes]
    total = sum(votes)
    speakers = _speakers_for(tok, sent, holder, pronoun, outer, quote_speaker, ctx)
    if holder is not None and outer and holder_verb is not None and _states_position(holder_verb, ctx):
        speakers += _spokesperson_of(holder, outer[0], speakers, ctx)
    speakers += [e for e in endorsers if e not in speakers]
    return _Reading(
        speakers, _sign(total), max(1, min(2, abs(total))), _evidence(sent, tok, ctx.text), judged, m
    )


def _describes(verb: Token, via: Token | None = None) -> bool:
    """Whether a describing verb has its description ('called it A MISTAKE', 'regarded it AS ...'), also
    as a verbless clause ('considers [the sanctions UNJUST]') or an 'as' the parser hung on the object."""
    if via is not None and via.dep_ in ("ccomp", "xcomp") and via.pos_ in ("ADJ", "NOUN"):
        return True
    for c in verb.children:
        if c.dep_ == "oprd" or (c.dep_ == "prep" and c.lower_ == "as"):
            return True
        if c.dep_ == "dobj" and any(x.dep_ == "prep" and x.lower_ == "as" for x in c.children):
            return True
    return False


def _denied_or_required_existence(tok: Token, scorer: _Scorer) -> bool:
    """'there will be NO negotiations', 'there must never be another war': a speaker who denies or demands
    that something exist takes a side on it; a plain 'there will be talks' is a forecast, not a stance."""
    head = tok.head
    if tok.dep_ != "attr" or head.lemma_.lower() != "be" or not any(c.dep_ == "expl" for c in head.children):
        return False
    required = any(c.dep_ == "aux" and c.lower_ in scorer.lex.prescriptive_modals for c in head.children)
    return required or scorer.negated(tok) or scorer.negated(head)


def _speakers_for(
    tok: Token,
    sent: Span,
    holder: _Speaker | None,
    pronoun: Token | None,
    outer: list[_Speaker],
    quote_speaker: _Speaker | None,
    ctx: _Context,
) -> list[_Speaker]:
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
            holder = _continued_quote_speaker(sent, ctx) or _trailing_reporter(tok, sent, ctx) or _AUTHOR
    # "the government", "his government", "our country": the side of whoever reports it
    holder_words = [w for w in holder.canonical.lower().split() if w not in _POSSESSIVES | _QUANTIFIERS]
    phrase = " ".join(holder_words)
    singular = phrase[:-3] + "y" if phrase.endswith("ies") else phrase.removesuffix("s")
    generic = holder.affiliation is None and bool(holder_words) and (
        phrase in ctx.lex.generic_holders or singular in ctx.lex.generic_holders
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
            result.append(_Speaker(spk.surface, spk.canonical, holder.affiliation, True, spk.position))
            keys.add(key)
    return result


def _states_position(verb: Token, ctx: _Context) -> bool:
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


def _spokesperson_of(
    holder: _Speaker, reporter: _Speaker, speakers: list[_Speaker], ctx: _Context
) -> list[_Speaker]:
    """'Mao Ning said China does not support ...': a person of unstated affiliation who reports a state's
    standing position speaks for that state (analysts and other outside voices excepted)."""
    state = (
        not holder.person
        and holder.affiliation is not None
        and (
            holder.canonical in ctx.alias_values
            or ctx.affiliation_of_text(holder.canonical) == holder.affiliation
        )
    )
    if not state or reporter.affiliation is not None or not reporter.person or not reporter.canonical:
        return []
    if any(s.canonical == reporter.canonical for s in speakers):
        return []
    words = {w.strip(_STRIP).lower() for w in reporter.surface.split()}
    if words & ctx.lex.independent_roles:
        return []
    return [_Speaker(reporter.surface, reporter.canonical, holder.affiliation, True, reporter.position)]


def _is_bare_role(spk: _Speaker, lex: Lexicon) -> bool:
    words = spk.canonical.lower().split()
    return bool(words) and words[-1] in lex.role_nouns and spk.canonical == spk.canonical.lower()


def _trailing_reporter(tok: Token, sent: Span, ctx: _Context) -> _Speaker | None:
    """'Talks must resume, the ministers said.' when the parser hangs 'said' under the clause it reports
    (advcl, parataxis, conj) instead of above it: a reporting verb after the target, outside quotes."""
    for t in sent:
        if t.i <= tok.i or ctx.quote_of[t.i] is not None or t.dep_ not in ("advcl", "parataxis", "conj"):
            continue
        if t.lemma_.lower() not in ctx.lex.reporting_verbs or tok in t.subtree:
            continue
        subj = subject_of(t, ctx.lex)
        prev = t.doc[t.i - 1]
        if subj is None and prev.pos_ in ("NOUN", "PROPN") and ctx.is_agent(prev):
            subj = prev  # "..., the bloc's MINISTERS said": the parser hung the subject elsewhere
        if subj is not None and subj.i > tok.i:
            return ctx.speaker_of_subject(subj, None)
    return None


def _continued_quote_speaker(sent: Span, ctx: _Context) -> _Speaker | None:
    """A verbless sentence that quotes someone continues the previous speaker (… North Korea must stop its
    “provocative actions”)."""
    if any(ctx.is_speaker_verb(t) for t in sent if ctx.quote_of[t.i] is None):
        return None
    for t in sent:
        qi = ctx.quote_of[t.i]
        if qi is not None and ctx.quote_speakers[qi].canonical:
            return ctx.quote_speakers[qi]
    return None


def _anaphoric_mentions(mentions: list[_Mention], ctx: _Context, scorer: _Scorer) -> list[_Mention]:
    """'Tokyo saw the launch. He CALLED IT unacceptable': a pronoun that a judging verb takes as its object,
    or the subject of an evaluative predicate, stands for the last target mentioned in the same or the
    previous sentence."""
    found: list[_Mention] = []
    lex = ctx.lex
    for tok in ctx.doc:
        if tok.lower_ not in lex.anaphors or not mentions:
            continue
        head = tok.head
        if tok.dep_ == "dobj" and head.pos_ == "VERB":
            judged = head.lemma_.lower() in _DESCRIBING_VERBS or bool(scorer._listed_valence(head, "object"))
        elif tok.dep_ in _SUBJECT_DEPS and head.lemma_.lower() in _COPULAS:
            # "it is important TO keep talking" is extraposition: "it" stands for the infinitive
            judged = bool(scorer.predicate_eval(head)) and not any(
                c.dep_ in ("xcomp", "ccomp") for c in head.children
            )
        else:
            judged = False
        if not judged:
            continue
        before = [m for m in mentions if m.root.i < tok.i]
        if not before:
            continue
        ante = max(before, key=lambda m: m.root.i)
        if ctx.sent_index[ante.root.i] >= ctx.sent_index[tok.i] - 1:
            found.append(_Mention(ante.target, ante.polarity, tok, tok.i, tok.i + 1))
    return found


# ----------------------------------------------------------------------------------------------- API
def extract_stances(
    doc: Doc, entities: Sequence[EntityMention] = (), lexicon: Lexicon | None = None
) -> list[Stance]:
    """One stance per (speaker, target) found in ``doc``, with all evidence sentences (strongest first).

    ``entities`` are the doc's :func:`wirewatch.agents.nlp.entities_of` mentions (canonical names); without
    them the statistical ``doc.ents`` are used. Call inside the memory zone that made ``doc``.
    """
    lex = lexicon or load_lexicon()
    ctx = _Context(doc, entities, lex)
    scorer = _Scorer(ctx)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    mentions = _find_mentions(doc, lex)
    mentions += _anaphoric_mentions(mentions, ctx, scorer)
    ctx.mention_roots = {m.root.i for m in mentions}
    for mention in mentions:
        reading = _read_mention(mention, ctx, scorer)
        if reading is None or (reading.speakers == [_AUTHOR] and not reading.judged):
            continue  # an author's own sentence shows a stance only through evaluative words
        for spk in reading.speakers:
            key = (spk.canonical or f"?{spk.surface}", mention.target)
            g = groups.setdefault(key, {"speaker": spk, "votes": [], "evidence": {}})
            if g["speaker"].affiliation is None and spk.affiliation:
                g["speaker"] = _Speaker(g["speaker"].surface, spk.canonical, spk.affiliation, spk.person, 0)
            g["votes"].append(reading.vote * reading.weight)
            ev = reading.evidence
            strength = g["evidence"].get(ev, 0)
            g["evidence"][ev] = max(strength, abs(reading.vote) * reading.weight)
    stances: list[Stance] = []
    for (_, target), g in groups.items():
        votes: list[int] = g["votes"]
        pos = sum(v for v in votes if v > 0)
        neg = -sum(v for v in votes if v < 0)
        total = pos - neg
        label = FAVOR if total > 0 else AGAINST if total < 0 else NEUTRAL
        n = len(votes)
        agreement = abs(total) / (pos + neg) if pos + neg else 0.5
        confidence = round(max(0.3, agreement) * (1 - 0.4**n), 3)
        evidence = tuple(sorted(g["evidence"], key=lambda ev: (-g["evidence"][ev], ev.start)))
        spk: _Speaker = g["speaker"]
        stances.append(
            Stance(spk.surface, spk.canonical, spk.affiliation, target, label, confidence, evidence)
        )
    stances.sort(key=lambda s: (s.evidence[0].start if s.evidence else 0, s.speaker_canonical, s.target))
    return stances
