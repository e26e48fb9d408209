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
import operator
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import compress, pairwise
from pathlib import Path
from typing import Any

from spacy.tokens import Doc, Span, Token

from . import lexicons
from .evidence import Evidence
from .nlp import EntityMention, TokenColumns, doc_sents, doc_text, normalise_name, token_columns

FAVOR, AGAINST, NEUTRAL = "favor", "against", "neutral"
#: Why the rules take no side on a mention: a question, a refusal to judge, a hypothetical, no cue at all.
ABSTAIN_QUESTION, ABSTAIN_DECLINED, ABSTAIN_CONDITIONAL = "question", "declined", "conditional"
ABSTAIN_NO_CUE = "no_cue"
ABSTAIN_IMPLIED = "implied"  # a clause reading: no target word, so no rule vote
IMPLIED = ""  # the target of a clause reading until a detector names one
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
_SPEAKER_VERB_POS = frozenset({"VERB", "AUX", "ADJ"})  # speaker verbs, and attitude adjectives
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
_QUOTE_CHAR = re.compile(f"[{_QUOTE_OPEN}{_QUOTE_CLOSE}\"]")


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

    # Derived lookups for cheap per-token prefilters (computed once per lexicon; cached_property writes the
    # instance __dict__ directly, so it works on a frozen dataclass and is rebuilt with the lexicon).
    @cached_property
    def verb_cues(self) -> frozenset[str]:
        """Speaker and action verbs (a token is a speaker verb only through one of them or an attitude)."""
        return self.speaker_verbs | self.action_verbs

    @cached_property
    def verb_cue_lemmas(self) -> frozenset[str]:
        """Lemmas that can make a speaker verb: a listed verb, the first word(s) of a listed phrasal verb
        (``pred_key`` appends the particle after a space), or a copula that may carry an attitude."""
        prefixes = {v[:k] for v in self.verb_cues for k, ch in enumerate(v) if ch == " "}
        return frozenset(self.verb_cues | prefixes | _COPULAS)

    @cached_property
    def verb_object_lemmas(self) -> frozenset[str]:
        """Verbs that are targets with certain objects (any target)."""
        return frozenset(v for verbs in self.verb_objects.values() for v in verbs)

    @cached_property
    def mention_lemmas(self) -> frozenset[str]:
        """Lemmas that may start a target mention: first words of terms, object verbs, modified nouns."""
        return frozenset(self.terms) | self.verb_object_lemmas | self.modified_heads

    def candidate_terms(self, lemma: str, lower: str) -> tuple[Term, ...]:
        """Terms that may start at a word with this lemma and lowercase form, longest first (memoised)."""
        key = (lemma, lower)
        found = self._candidate_terms.get(key)
        if found is None:
            found = self.terms.get(lemma, ()) + self.terms.get(lower, ())
            found = self._candidate_terms[key] = tuple(sorted(found, key=lambda t: -len(t.words)))
        return found

    @cached_property
    def _candidate_terms(self) -> dict[tuple[str, str], tuple[Term, ...]]:
        return {}

    @cached_property
    def padded_phrases(self) -> tuple[tuple[str, int], ...]:
        """The evaluative phrases with a space either side (to match whole words in a padded text)."""
        return tuple((f" {p} ", v) for p, v in self.phrases.items())

    @cached_property
    def modified_heads(self) -> frozenset[str]:
        """Nouns that are targets through a modifier (any spec)."""
        return frozenset(h for spec in self.modified_nouns for h in spec["heads"])

    @cached_property
    def speaker_by_surname(self) -> dict[str, str]:
        """Affiliation of the first listed speaker with each last word (a bare surname names them)."""
        found: dict[str, str] = {}
        for name, aff in self.speakers.items():
            found.setdefault(name.split()[-1], aff)
        return found


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
class Speaker:
    surface: str
    canonical: str  # "" = unresolved (or the author when surface is "")
    affiliation: str | None
    person: bool
    position: int  # char offset where it was named


AUTHOR = Speaker("", "", None, False, 0)


@dataclass(frozen=True)
class Mention:
    target: str
    polarity: int
    root: Token
    start: int  # token indices [start, end)
    end: int


def _find_mentions(ctx: _Context) -> list[Mention]:
    """Target mentions, longest term first, left to right, without overlaps."""
    doc, lex = ctx.doc, ctx.lex
    lemmas, lowers, poses, deps, kids = ctx.lemma, ctx.lower, ctx.pos, ctx.dep, ctx.children
    vo_lemmas, mod_heads = lex.verb_object_lemmas, lex.modified_heads
    n = len(lowers)
    terms = lex.terms
    # the only tokens that can start a mention: cheap set lookups instead of visiting every token
    first_lemmas = lex.mention_lemmas
    starts = list(
        compress(range(n), map(operator.or_, map(first_lemmas.__contains__, lemmas), map(terms.__contains__, lowers)))
    )
    found: list[Mention] = []
    free = 0  # tokens before ``free`` belong to a mention found already
    for i in starts:
        if i < free:
            continue
        lemma, lower, pos = lemmas[i], lowers[i], poses[i]
        match: tuple[Term, int] | None = None
        for term in lex.candidate_terms(lemma, lower):
            j = i + len(term.words)
            if j > n:
                continue
            # (a plain loop, not all() over a generator: this runs for every candidate term of every start)
            for k, w, p in zip(range(i, j), term.words, term.pos, strict=True):
                if (w != lemmas[k] and w != lowers[k]) or (p is not None and poses[k] != p):
                    break
            else:
                match = (term, j)
                break
        if match is None:
            # only verbs and nouns the lexicon lists can be targets through their objects or modifiers
            if (pos == "VERB" and lemma in vo_lemmas) or (pos == "NOUN" and lemma in mod_heads):
                tok = doc[i]
                hit = _verb_object_target(tok, lex) or _modified_noun_target(tok, lex)
                if hit is not None:  # "vowed to continue LAUNCHING satellites", "nuclear and missile PROGRAMMES"
                    found.append(Mention(hit[0], hit[1], tok, i, i + 1))
            continue
        term, j = match
        # the root of a one-word span is that word (Span.root would build the span to find it)
        root = doc[i] if j == i + 1 and not doc.user_span_hooks else doc[i:j].root
        r = root.i
        excluded = poses[r] == "VERB" and any(
            deps[c] == "dobj" and lemmas[c] in lex.excluded_objects for c in kids[r]
        )
        if not excluded:
            found.append(Mention(term.target, term.polarity, root, i, j))
        free = j
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
        for found in _QUOTE_CHAR.finditer(para):  # only quote characters change the state
            k, ch = found.start(), found.group()
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
        verbal = map(_SPEAKER_VERB_POS.__contains__, self.pos)
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
    def ents_in(self, start: int, end: int) -> list[EntityMention]:
        """Entities overlapping [start, end), in their given order."""
        ents = self.entities
        if self._ent_starts is not None:
            # sorted by start: only entities starting in [start - longest, end) can overlap (same order)
            ents = ents[
                bisect_left(self._ent_starts, start - self._ent_longest) : bisect_left(self._ent_starts, end)
            ]
        return [m for m in ents if m.start < end and m.end > start]

    def affiliation_of_text(self, text: str) -> str | None:
        if text not in self._text_affiliations:  # memoised: the same names are looked up again and again
            self._text_affiliations[text] = self.lex.aliases.get(text) or self.lex.aliases.get(normalise_name(text))
        return self._text_affiliations[text]

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
            if dep[child] in _NAME_DROP_DEPS:
                drop.update(self.subtree(child))
        kept = [t for t in self.subtree(head) if t not in drop] if drop else self.subtree(head)
        lo, hi = min(kept), max(kept)
        toks = [t for t in range(lo, hi + 1) if t not in drop] if drop else list(range(lo, hi + 1))
        while toks and (dep[toks[0]] == "det" or is_punct[toks[0]] or is_quote[toks[0]]):
            toks = toks[1:]
        while toks and (is_punct[toks[-1]] or is_quote[toks[-1]] or self.tag[toks[-1]] == "POS"):
            toks = toks[:-1]
        return toks or [head]

    def named_speaker(self, head: Token) -> Speaker:
        """A speaker from a noun phrase headed by ``head`` (no pronoun resolution)."""
        h = head.i
        if self.lemma[h] in _DOCUMENT_NOUNS:  # "a statement from the office of X said"
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
        """A noun that may have issued a document: an agent, not a date ("Friday's statement")."""
        return tok.ent_type_ not in ("DATE", "TIME", "CARDINAL", "ORDINAL") and (
            self.is_agent(tok) or tok.lemma_.lower() in self.lex.generic_holders
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
                return Speaker(
                    own.surface, prev.canonical, prev.affiliation or own.affiliation, True, head.idx
                )
        return own

    def resolve_pronoun(self, tok: Token) -> Speaker:
        word = tok.lower_
        person = word in ("he", "she", "him", "her")
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

    def may_be_speaker_verb(self, i: int) -> bool:
        """Cheap necessary condition for :meth:`is_speaker_verb` on token ``i`` (no Token needed)."""
        return self.pos[i] in _SPEAKER_VERB_POS and (
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
        return self.lemma[i] in _COPULAS and any(
            dep[c] == "acomp" and self.lemma[c] in attitudes for c in self.children[i]
        )

    def subject(self, verb: Token) -> Token | None:
        """:func:`subject_of` ``verb`` with the lexicon, memoised by token index."""
        return self.subject_at(verb.i)

    def subject_at(self, i: int) -> Token | None:
        """:meth:`subject` of token ``i``."""
        if i not in self._subjects:
            found = _subject_index(self.doc, self.columns, i, self.lex)
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
            if word in self.lex.first_person or word in self.lex.third_person or word in _RELATIVE:
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
            if speaker is None and speakers and first - last_sent <= 1:
                speaker = speakers[-1]  # a continued quote: no verb of its own
            speakers.append(speaker or Speaker(UNATTRIBUTED, "", None, False, s))
            last_sent = last
        return speakers

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
    return [
        EntityMention(e.text, e.label_, e.start_char, e.end_char, normalise_name(e.text), 1) for e in doc.ents
    ]


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
            rel == "advcl" and tag[v] in ("VBG", "VBN") and pos[head] in ("VERB", "AUX")
        ):  # "... and have called on", "..., saying"; a finite adverbial clause has a subject of its own
            v = head
        elif rel == "relcl":
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
        # memos by token index: the answers depend only on the parse and the lexicon
        self._negated: dict[int, bool] = {}
        self._entries: dict[int, dict[str, int] | None] = {}  # predicate entries by token index

    def negated(self, tok: Token) -> bool:
        i = tok.i
        found = self._negated.get(i)
        if found is None:
            found = self._negated[i] = self._is_negated(i)
        return found

    def _is_negated(self, i: int) -> bool:
        ctx = self.ctx
        for c in ctx.children[i]:
            dep = ctx.dep[c]
            if dep == "neg" or (ctx.lower[c] in self.lex.negators and dep in ("det", "advmod", "preconj")):
                # ", not threats," contrasts a noun phrase: it does not negate the verb it hangs from
                nxt_pos = ctx.pos[c + 1] if c + 1 < len(ctx.pos) else None
                if c > 0 and ctx.orth[c - 1] == "," and nxt_pos is not None and nxt_pos in _NOMINAL_POS:
                    continue
                return True
        return False

    def valence(self, head: Token, role: str, via: Token | None = None) -> int:
        """The valence ``head`` gives a phrase in ``role`` (reached through its child ``via``); a copula
        lends its adjective's ('are destructive TO')."""
        ctx, lex, h = self.ctx, self.lex, head.i
        dep, lower, kids = ctx.dep, ctx.lower, ctx.children
        if role == "object" and ctx.lemma[h] in _DESCRIBING_VERBS and _describes(head, via):
            return 0  # "CONSIDERED the sanctions a declaration of war": a description, judged by its words
        if via is not None and dep[via.i] in _OBJECT_DEPS:
            dep_specific = self._own_valence(head, dep[via.i])
            if dep_specific:
                return dep_specific
        own = self._own_valence(head, role)
        if not own and ctx.pos[h] == "VERB" and role not in ("object", "subject", "compound"):
            # "expressed concern OVER the launch", "return to compliance WITH the deal": the noun governs
            nouns = [c for c in kids[h] if dep[c] == "dobj"]
            nouns += [p for c in kids[h] if dep[c] == "prep" for p in kids[c] if dep[p] == "pobj"]
            for n in nouns:
                noun = ctx.doc[n]
                own = self._listed_valence(noun, role)
                if own:
                    own = -own if self.negated(noun) else own  # "saw NO point in resuming talks"
                    break
        if role == "subject" and any(
            (dep[c] == "aux" and (lower[c] in lex.prescriptive_modals or lower[c] in lex.intent_modals))
            or (dep[c] == "mark" and lower[c] in lex.goal_marks)
            for c in kids[h]
        ):
            own = own or self._listed_valence(head, "subject_must")  # "dialogue MUST continue"
        if (
            own < 0
            and via is not None
            and dep[via.i] == "xcomp"
            and any(dep[c] == "aux" and lower[c] == "to" for c in kids[via.i])
        ):
            return 0  # "must stop now TO GIVE space": a purpose clause, not what is stopped
        if own or role in ("object", "subject", "compound") or ctx.lemma[h] not in _COPULAS:
            return own
        for c in kids[h]:
            if dep[c] == "acomp":
                v = self._own_valence(ctx.doc[c], role)
                if v:
                    return v
        return 0

    def _own_valence(self, head: Token, role: str) -> int:
        v = self._listed_valence(head, role)
        if not v and self.ctx.pos[head.i] in ("VERB", "AUX") and head.i not in self.ctx.mention_roots:
            # "campaigned AGAINST sanctions"; but "retaliate against an attack" is no opposition
            v = self.lex.default_prep_valence.get(role, 0)
        return v

    def _listed_valence(self, head: Token, role: str) -> int:
        i = head.i
        if i not in self._entries:  # memoised per token: the walks ask about several roles of a word
            self._entries[i] = self._predicate_entry(head)
        entry = self._entries[i]
        return int(entry.get(role, 0)) if entry is not None else 0

    def _predicate_entry(self, head: Token) -> dict[str, int] | None:
        """The lexicon's predicate entry for ``head``, if it has one."""
        entries = self.lex.predicates
        key = self.ctx.pred_key(head)
        lemma, pos = self.ctx.lemma[head.i], self.ctx.pos[head.i].lower()
        for k in (f"{key}/{pos}", key, f"{lemma}/{pos}", lemma):
            entry = entries.get(k)
            if entry is not None:
                return entry
        base = lemma.removeprefix("re").removeprefix("-")
        if pos == "verb" and base != lemma and len(base) >= 4 and base in entries:
            return entries[base]  # "REimpose sanctions", "RE-enter the talks"
        return None

    def word_eval(self, tok: Token) -> int:
        ctx, i = self.ctx, tok.i
        lemma = ctx.lemma[i]
        if lemma in self.lex.light_nouns:  # "an ACT of aggression", "the HEIGHT of absurdity"
            for prep in ctx.children[i]:
                if ctx.dep[prep] == "prep" and ctx.lower[prep] == "of":
                    for pobj in ctx.children[prep]:
                        if ctx.dep[pobj] == "pobj":
                            return self.lex.evaluative.get(ctx.lemma[pobj], 0)
        return self.lex.evaluative.get(lemma, self.lex.evaluative.get(ctx.lower[i], 0))

    def modifier_eval(self, tok: Token, skip: Token | None = None) -> int:
        """Judgements of a noun by its modifiers: amod adjectives and relative clauses (but ``skip``, the
        branch the walk came up through)."""
        ctx = self.ctx
        dep, kids, doc = ctx.dep, ctx.children, ctx.doc
        total = 0
        for c in kids[tok.i]:
            if skip is not None and c == skip.i:
                continue
            if dep[c] == "amod":
                for a in [c, *(x for x in kids[c] if dep[x] == "conj")]:
                    if ctx.lemma[a] in self.lex.predicative_only:
                        continue  # "a POSSIBLE launch" hedges, "a deal is possible" judges
                    adj = doc[a]
                    total += self.word_eval(adj) * (-1 if self.negated(adj) else 1)
            elif dep[c] == "relcl" and any(ctx.lower[x] in _RELATIVE for x in kids[c] if dep[x] in _SUBJECT_DEPS):
                clause = doc[c]
                e = self.valence(clause, "subject") + self.predicate_eval(clause)
                total += -e if self.negated(clause) else e
            elif dep[c] == "relcl" and ctx.lemma[c] in _DESCRIBING_VERBS:
                clause = doc[c]
                e = self.describe_eval(clause)  # "the launch, which she described as reckless"
                total += -e if self.negated(clause) else e
        return _sign(total)

    def phrase_eval(self, tokens: Iterable[int]) -> int:
        """Valences of the listed phrases in the words of token indices ``tokens``."""
        lower = self.ctx.lower
        text = " " + " ".join(lower[t] for t in tokens) + " "
        return sum(v for p, v in self.lex.padded_phrases if p in text)

    def predicate_eval(self, head: Token) -> int:
        """Judgement a copula-like predicate passes on its subject (is useless / had no negative effect)."""
        ctx, h = self.ctx, head.i
        dep, kids, doc = ctx.dep, ctx.children, ctx.doc
        lemma = ctx.lemma[h]
        total = 0
        for ci in kids[h]:
            d = dep[ci]
            if d in ("acomp", "attr", "oprd") or (d == "dobj" and lemma in _COPULAS):
                c = doc[ci]
                # "were proportionate and lawful": coordinated predicates judge together
                e = sum(self.word_eval(doc[x]) for x in (ci, *(x for x in kids[ci] if dep[x] == "conj")))
                e += self.modifier_eval(c)
                if d == "dobj" and not e:
                    e = self.phrase_eval(ctx.subtree(ci))
                else:
                    e += self.phrase_eval(ctx.subtree(ci))
                total += -_sign(e) if self.negated(c) else _sign(e)
            elif d in ("prep", "advmod") and lemma in _COPULAS:
                total += self.phrase_eval(ctx.subtree(ci))
        if lemma not in _COPULAS:
            objects = [t for c in kids[h] if dep[c] == "dobj" for t in ctx.subtree(c)]
            total += self.phrase_eval([h, *objects])
            if ctx.pred_key(head) in self.lex.causatives:
                # "only negotiations can bring lasting PEACE": the subject takes its effect's value
                for ci in kids[h]:
                    if dep[ci] == "dobj":
                        c = doc[ci]
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
        lower = self.ctx.lower
        for marker in self.lex.contrast_markers:
            lo = tok.i - len(marker) + 1
            if lo >= 0 and tuple(lower[lo : tok.i + 1]) == marker:
                return True
        return False


@dataclass
class Reading:
    """What the rules read off one target mention: whose it is, the cues on the way, and their vote."""

    speakers: list[Speaker]
    vote: int  # -1, 0, +1
    weight: int
    evidence: Evidence
    judged: bool  # an evaluative word or phrase took part (the only stance an author's own text shows)
    mention: Mention
    abstain: str | None = None  # ABSTAIN_*: why the rules take no side (None: they take one)
    conditional: bool = False  # the mention sits in a conditional clause
    rhetorical: bool = False  # in a rhetorical question
    negated: bool = False  # the mention itself is negated ("no sanctions")
    in_quote: bool = False
    holder_verb: int | None = None  # token index of the speaker verb whose subject holds the position
    reporters: list[Speaker] = field(default_factory=list)  # who reports the position (see _reporters)


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


def _read_mention(m: Mention, ctx: _Context, scorer: _Scorer) -> Reading:
    """Walk from a target mention to its speaker, scoring the cues on the way."""
    lex = ctx.lex
    # token attributes from the context's columns (no spaCy Token objects for them)
    dep, pos, lower, lemma, kids = ctx.dep, ctx.pos, ctx.lower, ctx.lemma, ctx.children
    tok = m.root
    t = tok.i
    sign = m.polarity * (-1 if scorer.negated(tok) else 1)
    votes: list[int] = []
    e = scorer.modifier_eval(tok)
    if e:
        votes.append(sign * e)
    judged = bool(votes)
    for c in kids[t]:
        if dep[c] in ("amod", "compound") and c < t and ctx.tag[c] == "VBG":
            v = scorer.valence(ctx.doc[c], "object")  # "opposed lifting sanctions" parsed with "lifting" as a modifier
            if v:
                sign *= v
                votes_from_modifier = True
                break
    else:
        votes_from_modifier = False
    # a target verb carries its own stance: "Tehran would NOT negotiate", "we WILL strike"
    cue = votes_from_modifier or (
        pos[t] == "VERB"
        and (
            scorer.negated(tok)
            or any(dep[c] == "aux" and lower[c] in lex.intent_modals for c in kids[t])
            or any(dep[c] in _SUBJECT_DEPS and lower[c] in lex.first_person for c in kids[t])
        )
    ) or _denied_or_required_existence(tok, scorer)
    frozen = evaluated = judged_cue = conditional = False
    abstain: str | None = None  # why the rules take no side (their walk still finds the speaker)
    entered_as: str | None = None  # the role of the phrase by which the walk entered the current node
    holder: Speaker | None = None
    holder_verb: Token | None = None
    pronoun: Token | None = None
    outer: list[Speaker] = []
    endorsers: list[Speaker] = []
    qi = ctx.quote_of[t]
    quote_speaker = ctx.quote_speakers[qi] if qi is not None else None
    node = tok
    span_ids = set(range(m.start, m.end))
    for _ in range(40):
        head = node.head
        if head.i == node.i:
            break
        rel = dep[node.i]
        via = node  # the child of ``head`` the walk comes up through
        role: str | None = None
        if rel in ("pobj", "pcomp") and (pos[head.i] in ("ADP", "SCONJ") or dep[head.i] in ("prep", "agent")):
            if not frozen and scorer.contrast(head):
                sign, cue = -sign, True
            role = lower[head.i]  # the preposition as written ("including" lemmatises to "include")
            if head.head.i == head.i:
                break
            via = head
            head = head.head
            if (
                dep[head.i] in ("prep", "prt", "advmod")
                and pos[head.head.i] == "VERB"
                and ctx.pred_key(head.head) == f"{lemma[head.head.i]} {lower[head.i]}"
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
        n = node.i
        marks = {lower[c] for c in kids[n] if dep[c] == "mark"}
        if rel in ("ccomp", "pcomp", "xcomp", "acl") and (
            marks | {lower[c] for c in kids[n] if dep[c] == "advmod" and c < n}
        ) & lex.question_marks:
            abstain = abstain or ABSTAIN_QUESTION  # "asked WHETHER talks were planned": no side
        h = head.i
        cancels = lex.neutralizers.get(ctx.pred_key(head)) or lex.neutralizers.get(lemma[h], ())
        if dep[via.i] in cancels or (dep[via.i] == "prep" and lower[via.i] in cancels):
            abstain = abstain or ABSTAIN_DECLINED  # "DECLINED to condemn the launch", "NOTED the decision"
        if rel == "advcl" and marks & lex.goal_marks:
            frozen = True  # "... until Pyongyang takes steps toward denuclearization": a sought end state
        if rel == "advcl" and marks & lex.conditional_marks:
            conditional = True
            if holder is not None and not evaluated:
                abstain = abstain or ABSTAIN_CONDITIONAL  # the holder's position is itself hypothetical
            if not frozen and not abstain:
                ev = scorer.clause_eval(head)
                if not ev:
                    abstain = ABSTAIN_CONDITIONAL
                else:
                    votes.append(sign * ev * (-1 if scorer.negated(head) else 1))
                    frozen = evaluated = judged = True
                    cue = False  # the chain so far is consumed by the main clause's judgement
        if abstain and not frozen:
            # the rules take no side from here on, but the walk goes on to find whose clause it is
            frozen, cue = True, False
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
                if pos[h] in ("ADJ", "NOUN") and dep[h] in ("ccomp", "xcomp", "oprd"):
                    # a verbless clause: "considers [the sanctions UNJUST]", "called [talks a MISTAKE]"
                    evals.append(_sign(scorer.word_eval(head) + scorer.modifier_eval(head)))
            elif role == "object" and lemma[h] in _DESCRIBING_VERBS:
                evals.append(scorer.describe_eval(head, skip=via))
            if pos[h] in ("NOUN", "PROPN"):
                evals.append(scorer.modifier_eval(head, skip=via))
            for ev in evals:
                if ev:
                    votes.append(sign * ev)
                    judged = True
                    # "the decision to PULL OUT of talks was a MISTAKE": the judgement covers the cue
                    judged_cue = judged_cue or cue
        asked_of = (  # "urged North Korea TO ABANDON ...": what a speaker asks of someone is not theirs
            dep[h] == "xcomp"
            and ctx.is_speaker_verb(head.head)
            and not any(dep[c] in _SUBJECT_DEPS for c in kids[h])
        )
        if (
            ctx.is_speaker_verb(head)
            and not asked_of
            and not any(dep[c] == "aux" and lower[c] in lex.prescriptive_modals for c in kids[h])
        ):
            subj = ctx.subject(head)
            in_quote = ctx.quote_of[h] is not None
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
                        if _reports_quote_of_another(spk, quote_speaker, qi, in_quote):
                            # '"...," A said, B reported': the quote is A's (its nearest verb); B reports it
                            outer.append(spk)
                            spk = quote_speaker
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
        abstain = abstain or ABSTAIN_NO_CUE
    sent = ctx.sents[ctx.sent_index[t]]
    # a rhetorical question denies what it asks ("Why would we agree to denuclearization?")
    sent_text = ctx.text[sent.start_char : sent.end_char]  # = sent.text, without rebuilding it from tokens
    stext = sent_text.strip(_STRIP + "?").lower()
    rhetorical = sent_text.rstrip(_STRIP.replace("?", "")).endswith("?") and stext.startswith(lex.rhetorical_openers)
    if rhetorical:
        votes = [-v for v in votes]
    total = sum(votes)
    speakers = _speakers_for(tok, sent, holder, pronoun, outer, quote_speaker, ctx)
    if holder is not None and outer and holder_verb is not None and _states_position(holder_verb, ctx):
        speakers += _spokesperson_of(holder, outer[0], speakers, ctx)
    speakers += [e for e in endorsers if e not in speakers]
    reporters = _reporters(sent, speakers, outer, pronoun if holder is not None else None, quote_speaker, ctx)
    if speakers == [AUTHOR]:
        reporters += _actor(tok, ctx)
    return Reading(
        speakers,
        _sign(total),
        max(1, min(2, abs(total))),
        _evidence(sent, tok, ctx.text),
        judged,
        m,
        abstain=abstain,
        conditional=conditional,
        rhetorical=rhetorical,
        negated=scorer.negated(tok),
        in_quote=qi is not None,
        holder_verb=holder_verb.i if holder_verb is not None else None,
        reporters=reporters,
    )


def _reports_quote_of_another(spk: Speaker, quote_speaker: Speaker | None, qi: int | None, in_quote: bool) -> bool:
    """A verb outside the quote the mention is in, whose subject is not the speaker the quote is attributed to."""
    return (
        qi is not None
        and not in_quote
        and quote_speaker is not None
        and bool(quote_speaker.canonical)
        and spk.canonical != quote_speaker.canonical
    )


def _actor(tok: Token, ctx: _Context) -> list[Speaker]:
    """No speaker verb governs the mention: the agent of the nearest clause above it whose subject can hold
    a position ("Abe ORDERED the government to prepare sanctions"), if any."""
    for anc in tok.ancestors:
        if ctx.pos[anc.i] not in ("VERB", "AUX"):
            continue
        subj = ctx.subject(anc)
        if subj is None or subj.i in ctx.mention_roots or subj.i == tok.i:
            continue
        word = ctx.lower[subj.i]
        if word in ctx.lex.first_person or word in _RELATIVE or not ctx.is_agent(subj):
            continue
        spk = ctx.speaker_of_subject(subj, None)
        return [spk] if spk is not None and spk.surface else []
    return []


def _reporters(
    sent: Span,
    speakers: list[Speaker],
    outer: list[Speaker],
    pronoun: Token | None,
    quote_speaker: Speaker | None,
    ctx: _Context,
) -> list[Speaker]:
    """Who reports the holder's position without the rules making it theirs ("China opposes ..., the
    ministry said"; "HE said Germany remains committed"): outer speakers, the quote's speaker, an "according
    to" source, a pronoun reporter; not those of another stated affiliation than the holder's."""
    holder = speakers[0]
    found = [*outer, quote_speaker, ctx.according_to(sent)]
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
    if scorer.ctx.dep[tok.i] != "attr":
        return False
    head = tok.head
    if head.lemma_.lower() != "be" or not any(c.dep_ == "expl" for c in head.children):
        return False
    required = any(c.dep_ == "aux" and c.lower_ in scorer.lex.prescriptive_modals for c in head.children)
    return required or scorer.negated(tok) or scorer.negated(head)


def _speakers_for(
    tok: Token,
    sent: Span,
    holder: Speaker | None,
    pronoun: Token | None,
    outer: list[Speaker],
    quote_speaker: Speaker | None,
    ctx: _Context,
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
            holder = _continued_quote_speaker(sent, ctx) or _trailing_reporter(tok, sent, ctx) or AUTHOR
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
            result.append(Speaker(spk.surface, spk.canonical, holder.affiliation, True, spk.position))
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
    holder: Speaker, reporter: Speaker, speakers: list[Speaker], ctx: _Context
) -> list[Speaker]:
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
    return [Speaker(reporter.surface, reporter.canonical, holder.affiliation, True, reporter.position)]


def _is_bare_role(spk: Speaker, lex: Lexicon) -> bool:
    words = spk.canonical.lower().split()
    return bool(words) and words[-1] in lex.role_nouns and spk.canonical == spk.canonical.lower()


def _trailing_reporter(tok: Token, sent: Span, ctx: _Context) -> Speaker | None:
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


def _continued_quote_speaker(sent: Span, ctx: _Context) -> Speaker | None:
    """A verbless sentence that quotes someone continues the previous speaker (… North Korea must stop its
    “provocative actions”)."""
    if ctx.speaker_verbs_in(sent.start, sent.end):
        return None
    for i in range(sent.start, sent.end):
        qi = ctx.quote_of[i]
        if qi is not None and ctx.quote_speakers[qi].canonical:
            return ctx.quote_speakers[qi]
    return None


def _anaphoric_mentions(mentions: list[Mention], ctx: _Context, scorer: _Scorer) -> list[Mention]:
    """'Tokyo saw the launch. He CALLED IT unacceptable': a pronoun that a judging verb takes as its object,
    or the subject of an evaluative predicate, stands for the last target mentioned in the same or the
    previous sentence."""
    found: list[Mention] = []
    lex = ctx.lex
    if not mentions:
        return found
    for i in compress(range(len(ctx.lower)), map(lex.anaphors.__contains__, ctx.lower)):  # the few anaphors
        tok = ctx.doc[i]
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
            found.append(Mention(ante.target, ante.polarity, tok, tok.i, tok.i + 1))
    return found


# ----------------------------------------------------------------------------------------------- API
def read_mentions(doc: Doc, entities: Sequence[EntityMention] = (), lexicon: Lexicon | None = None) -> list[Reading]:
    """The rules' reading of every target mention in ``doc``, abstentions included (their walk still finds
    the speaker and the evidence sentence). Call inside the memory zone that made ``doc``."""
    return read_document(doc, entities, lexicon, clauses=False)[0]


def read_document(
    doc: Doc, entities: Sequence[EntityMention] = (), lexicon: Lexicon | None = None, *, clauses: bool = True
) -> tuple[list[Reading], list[Reading]]:
    """:func:`read_mentions`'s readings, and (``clauses``) one clause reading per sentence that has a
    speaker: the same walk from the sentence's reported content, with target :data:`IMPLIED` (a quote
    about "such actions" or "the operation" names no target; a learned detector supplies it). Clause
    readings carry no vote. Call inside the memory zone that made ``doc``."""
    lex = lexicon or load_lexicon()
    ctx = _Context(doc, entities, lex)
    scorer = _Scorer(ctx)
    mentions = _find_mentions(ctx)
    mentions += _anaphoric_mentions(mentions, ctx, scorer)
    ctx.mention_roots = {m.root.i for m in mentions}
    readings = [_read_mention(mention, ctx, scorer) for mention in mentions]
    if not clauses:
        return readings, []
    clause_readings = []
    for sent in ctx.sents:
        anchor = _clause_anchor(sent, ctx)
        if anchor is None:
            continue
        reading = _read_mention(Mention(IMPLIED, 0, anchor, anchor.i, anchor.i + 1), ctx, scorer)
        if reading.speakers == [AUTHOR] and not reading.reporters:
            continue  # the author's own sentence: no one's position
        reading.vote = 0
        reading.abstain = ABSTAIN_IMPLIED
        clause_readings.append(reading)
    return readings, clause_readings


def _clause_anchor(sent: Span, ctx: _Context) -> Token | None:
    """The token a sentence's reported content hangs from: the complement of its speaker verb ("said
    *that* ..."), else the root of a quote in it, else the sentence root."""
    root = sent.root
    if ctx.speaker_verb_at(root.i):
        for c in ctx.children[root.i]:
            if ctx.dep[c] in ("ccomp", "xcomp", "dobj", "advcl") and ctx.quote_of[c] is None:
                if ctx.dep[c] == "advcl" and (ctx.speaker_verb_at(c) or ctx.lemma[c] in ctx.lex.quoting_verbs):
                    continue  # "..., CITING state media", "ADDING that ...": another report, not the content
                return ctx.doc[c]
        for i in range(sent.start, sent.end):
            if ctx.quote_of[i] is not None and ctx.quote_of[ctx.doc[i].head.i] is None:
                return ctx.doc[i]  # the top of the quoted words
    return root if not ctx.is_punct[root.i] else None


def is_authors_unjudged(reading: Reading) -> bool:
    """An author's own sentence shows a stance only through evaluative words."""
    return reading.speakers == [AUTHOR] and not reading.judged


def extract_stances(
    doc: Doc, entities: Sequence[EntityMention] = (), lexicon: Lexicon | None = None
) -> list[Stance]:
    """One stance per (speaker, target) found in ``doc``, with all evidence sentences (strongest first).

    ``entities`` are the doc's :func:`wirewatch.agents.nlp.entities_of` mentions (canonical names); without
    them the statistical ``doc.ents`` are used. Call inside the memory zone that made ``doc``.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for reading in read_mentions(doc, entities, lexicon):
        if reading.abstain or is_authors_unjudged(reading):
            continue
        mention = reading.mention
        for spk in reading.speakers:
            key = (spk.canonical or f"?{spk.surface}", mention.target)
            g = groups.setdefault(key, {"speaker": spk, "votes": [], "evidence": {}})
            if g["speaker"].affiliation is None and spk.affiliation:
                g["speaker"] = Speaker(g["speaker"].surface, spk.canonical, spk.affiliation, spk.person, 0)
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
        spk: Speaker = g["speaker"]
        stances.append(
            Stance(spk.surface, spk.canonical, spk.affiliation, target, label, confidence, evidence)
        )
    stances.sort(key=lambda s: (s.evidence[0].start if s.evidence else 0, s.speaker_canonical, s.target))
    return stances
