"""Stance lexicon: targets, cues and speaker knowledge, read from ``data/stance_targets.json`` and
``data/stance_cues.json`` (every word list is data)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from .. import lexicons
from .grammar import COPULAS

TARGETS_RESOURCE = "stance_targets.json"
CUES_RESOURCE = "stance_cues.json"
#: A word of the general sentiment lexicon judges what it describes when its valence is at least this strong
#: (VADER's scale runs from -4 to +4); weaker words are too often a domain's plain vocabulary.
GENERAL_EVALUATIVE_MIN = 2.5


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
    # nouns and adjectives of a general sentiment lexicon, for what ``evaluative`` does not list (word -> sign)
    general_evaluative: dict[str, int] = field(default_factory=dict)
    neutralizers: dict[str, frozenset[str]] = field(default_factory=dict)
    independent_roles: frozenset[str] = frozenset()
    anaphors: frozenset[str] = frozenset()
    quoting_verbs: frozenset[str] = frozenset()
    speech_nouns: frozenset[str] = frozenset()
    attitude_adjectives: frozenset[str] = frozenset()
    light_nouns: frozenset[str] = frozenset()
    predicative_only: frozenset[str] = frozenset()
    # word groups of a clause that takes no side (group -> whole-word phrases, space-padded), for the learned model
    neutral_markers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    efficacy_verbs: frozenset[str] = frozenset()
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
        return frozenset(self.verb_cues | prefixes | COPULAS)

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
        speech_nouns=frozenset(w.lower() for w in cues.get("speech_nouns", [])),
        attitude_adjectives=frozenset(w.lower() for w in cues.get("attitude_adjectives", [])),
        light_nouns=frozenset(w.lower() for w in cues.get("light_nouns", [])),
        predicative_only=frozenset(w.lower() for w in cues.get("predicative_only", [])),
        neutral_markers={
            group: tuple(f" {w.lower()} " for w in words) for group, words in cues.get("neutral_markers", {}).items()
        },
        efficacy_verbs=frozenset(w.lower() for w in cues.get("efficacy_verbs", [])),
        question_marks=frozenset(w.lower() for w in cues.get("question_marks", [])),
        neutralizers={k.lower(): frozenset(v) for k, v in cues.get("neutralizers", {}).items()},
        independent_roles=frozenset(w.lower() for w in targets.get("independent_roles", [])),
        causatives=frozenset(w.lower() for w in cues.get("causatives", [])),
        generic_holders=frozenset(w.lower() for w in targets.get("generic_holders", [])),
        prescriptive_modals=frozenset(w.lower() for w in cues.get("prescriptive_modals", [])),
        default_prep_valence={k.lower(): int(v) for k, v in cues.get("default_prep_valence", {}).items()},
        targets=tuple(targets["targets"]),
        general_evaluative=general_evaluative(),
    )


@lru_cache(maxsize=1)
def general_evaluative(minimum: float = GENERAL_EVALUATIVE_MIN) -> dict[str, int]:
    """The strongly valenced words of VADER's sentiment lexicon (a word list shipped in its package): word ->
    +1 or -1. Only whole words; the emoticons and abbreviations it also lists are left out."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # read once; kept off CLI start

    return {
        word: 1 if value > 0 else -1
        for word, value in SentimentIntensityAnalyzer().lexicon.items()
        if abs(value) >= minimum and word.replace("-", "").isalpha()
    }


def _read_json(path: str | Path | None, resource: str) -> dict[str, Any]:
    if path is None:
        return lexicons.load(resource)  # shipped data file + the user's extension (WIREWATCH_LEXICON_DIR)
    return json.loads(Path(path).read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def load_lexicon(targets_path: str | None = None, cues_path: str | None = None) -> Lexicon:
    """Load the lexicon from the shipped data files, or from the given paths (cached)."""
    return build_lexicon(_read_json(targets_path, TARGETS_RESOURCE), _read_json(cues_path, CUES_RESOURCE))


lexicons.on_change(load_lexicon.cache_clear)
