"""Which sentences of an article need the tagger, parser and lemmatizer (selective parsing, issue 16).

The detector reads only sentences with a launch, missile or weapon cue; the stance tagger reads target
mentions and what speakers say (reporting verbs, quotes). Everything else in an article is read for its
entities alone, which the first pass (NER and ``senter``) already gives. A sentence is selected when it
has one of these cues, read from the detector's and stance tagger's own data files (through
:mod:`wirewatch.agents.lexicons`, so a user's additions count too):

* a weapon (the ``weapons`` and ``defence_weapons`` regexes of ``detector_cues.json``, a ``WEAPON``
  entity of the gazetteer);
* a launch or candidate word (``verb_triggers``, ``noun_triggers``, ``candidate_cues``);
* a reporting or speaker verb (``speech_verbs``, ``commissive_verbs``; ``speaker_verbs``, ``reporting_verbs``,
  ``quoting_verbs`` of ``stance_cues.json``), an action verb or attitude adjective that makes its subject a
  stance holder (``action_verbs``, ``attitude_adjectives``), or a quotation mark;
* a stance target term (``terms``, ``inverse_terms``, ``verb_objects`` and ``modified_nouns`` of
  ``stance_targets.json``): a phrase counts when all its words are in the sentence;

and the sentences on either side of each such sentence are selected too (actors and speakers that "it"
and "he" refer back to; the alert model reads a candidate's neighbours). The cue lists hold lemmas and
the first pass has none, so each lemma is matched by its inflected forms, made with the model's own
lemmatizer tables (its exceptions and suffix rules read backwards): over-inclusive by design, since a
missed sentence loses a finding, an extra one costs time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from spacy.attrs import ENT_TYPE, IDX, IS_PUNCT, IS_QUOTE, IS_SPACE, LOWER, SENT_START
from spacy.strings import get_string_id
from spacy.tokens import Doc

from . import lexicons

#: Word lists of detector_cues.json whose lemmas select a sentence.
DETECTOR_LISTS = ("verb_triggers", "noun_triggers", "candidate_cues", "speech_verbs", "commissive_verbs")
#: Word lists of stance_cues.json whose lemmas select a sentence.
STANCE_LISTS = ("speaker_verbs", "reporting_verbs", "quoting_verbs", "action_verbs", "attitude_adjectives")
#: Sentences before and after each cue sentence that are parsed too: the detector and the stance tagger
#: look back for actors and speakers, the alert model reads the sentences on both sides of a candidate.
CONTEXT_BEFORE = 1
CONTEXT_AFTER = 1
#: ... and as many more as make that context at least this many tokens long (see _add_context).
CONTEXT_MIN_TOKENS = 8
#: Entity label of the gazetteer's weapon systems.
WEAPON_LABEL = "WEAPON"


def inflections(lemma: str, exceptions: Mapping[str, Mapping[str, Any]], rules: Mapping[str, Any]) -> set[str]:
    """Every form the lemmatizer could turn into ``lemma``: itself, the exceptions that map to it and the
    suffix rules read backwards (``fire`` -> fired, fires, firing; ``fly`` -> flew, flies)."""
    forms = {lemma}
    for table in exceptions.values():
        forms.update(form for form, lemmas in table.items() if lemma in lemmas)
    for pairs in rules.values():
        for old, new in pairs:
            if lemma.endswith(new):
                forms.add(lemma[: len(lemma) - len(new)] + old)
    # doubled final consonant (planned, stopped), which the rules take from the exception table
    if len(lemma) > 2 and lemma[-1] not in "aeiouwxy" and lemma[-2] in "aeiou":
        forms.update(lemma + lemma[-1] + suffix for suffix in ("ed", "ing", "er"))
    return forms


def _phrase_words(term: str) -> tuple[str, ...]:
    """``"talk/NOUN"`` -> ("talk",); ``"economic pressure"`` -> ("economic", "pressure")."""
    return tuple(w.split("/")[0].lower() for w in term.split() if w.split("/")[0] and w != "-")


def _target_phrases(targets: Mapping[str, Any]) -> set[tuple[str, ...]]:
    phrases: set[tuple[str, ...]] = set()
    for target in targets.get("targets", {}).values():
        for key in ("terms", "inverse_terms"):
            phrases.update(_phrase_words(t) for t in target.get(key, ()))
    for verbs in targets.get("verb_objects", {}).values():
        for verb, objects in verbs.items():
            phrases.update((verb.lower(), obj.lower()) for obj in objects if not obj.startswith("@"))
            if any(obj.startswith("@") for obj in objects):
                phrases.add((verb.lower(),))  # an entity object ("meet @PERSON"): the verb alone selects
    for entry in targets.get("modified_nouns", ()):
        modifiers, heads = entry.get("modifiers", ()), entry.get("heads", ())
        phrases.update((m.lower(), h.lower()) for m in modifiers for h in heads)
    return {p for p in phrases if p}


@dataclass(frozen=True)
class CueVocabulary:
    """The cue words as string hashes (compared with the first pass's LOWER column), and the weapon regex."""

    words: np.ndarray  # hashes of every form of a single-word cue
    phrase_words: np.ndarray  # hashes of every form of a word of a multi-word target phrase
    phrases: tuple[tuple[frozenset[int], ...], ...]  # per phrase, per word: the hashes of its forms
    weapon: re.Pattern[str]


def build_vocabulary(exceptions: Mapping[str, Any], rules: Mapping[str, Any]) -> CueVocabulary:
    """The cue vocabulary from the current lexicons, inflected with the lemmatizer tables given."""
    detector = lexicons.load("detector_cues.json")
    stance = lexicons.load("stance_cues.json")
    targets = lexicons.load("stance_targets.json")
    singles = {w.lower() for name in DETECTOR_LISTS for w in detector.get(name, ())}
    singles |= {w.lower() for name in STANCE_LISTS for w in stance.get(name, ())}
    phrases = []
    for words in _target_phrases(targets) | {_phrase_words(v) for v in singles if " " in v}:
        if len(words) == 1:
            singles.add(words[0])
        else:
            phrases.append(tuple(frozenset(map(get_string_id, inflections(w, exceptions, rules))) for w in words))
    single_forms = {f for w in singles if " " not in w for f in inflections(w, exceptions, rules)}
    weapons = [entry["pattern"] for entry in detector.get("weapons", ())] + [detector.get("defence_weapons", "")]
    weapon = re.compile("|".join(f"(?:{pattern})" for pattern in weapons if pattern), re.I)
    return CueVocabulary(
        words=np.array(sorted(get_string_id(f) for f in single_forms), dtype=np.uint64),
        phrase_words=np.array(sorted({h for p in phrases for word in p for h in word}), dtype=np.uint64),
        phrases=tuple(phrases),
        weapon=weapon,
    )


def sentence_starts(doc: Doc) -> list[int]:
    """Token indices where the first pass's sentences start (the first token always does)."""
    starts = np.flatnonzero(doc.to_array(SENT_START).astype(np.int64) == 1).tolist()
    return starts if starts and starts[0] == 0 else [0, *starts]


def cue_tokens(doc: Doc, vocab: CueVocabulary, *, weapons: bool = True) -> np.ndarray:
    """Per token of ``doc`` (tokenized, gazetteer entities set): does it carry a one-word cue, a quotation
    mark or a gazetteer weapon, and with ``weapons`` a match of the weapon regexes (the costly part: a
    few ms per article)? (Target phrases need a sentence: :func:`selected_sentences` adds them.)"""
    if not len(doc):
        return np.zeros(0, dtype=bool)
    columns = doc.to_array([LOWER, IS_QUOTE, ENT_TYPE])
    cue = np.isin(columns[:, 0], vocab.words) | (columns[:, 1] != 0)
    cue |= columns[:, 2] == get_string_id(WEAPON_LABEL)
    if weapons:
        cue |= weapon_tokens(doc, vocab)
    return cue


def weapon_tokens(doc: Doc, vocab: CueVocabulary) -> np.ndarray:
    """Per token of ``doc``: does a match of the detector's weapon regexes start in it?"""
    found = np.zeros(len(doc), dtype=bool)
    token_starts = doc.to_array(IDX).astype(np.int64)
    for match in vocab.weapon.finditer(doc.text):
        found[np.searchsorted(token_starts, match.start(), side="right") - 1] = True
    return found


def parsed_whole(doc: Doc, cue: np.ndarray) -> bool:
    """True when every sentence of ``doc`` would be selected, judged without sentences: no stretch between
    cues holds two sentence ends (".", "!", "?", a line break). Such a stretch holds at most one whole
    sentence, next to a cue sentence; near the doc's edges likewise. A wrong guess costs time, not results:
    a whole-doc parse is what the selection gives when it selects everything."""
    at = np.flatnonzero(cue)
    if not len(at):
        return False
    columns = doc.to_array([IS_PUNCT, IS_SPACE, LOWER])
    ends = (columns[:, 0] != 0) & np.isin(columns[:, 2], _SENTENCE_END_HASHES)
    ends |= (columns[:, 1] != 0) & np.isin(columns[:, 2], _line_break_hashes(doc))
    before = np.concatenate([[0], np.cumsum(ends)])  # before[k]: sentence ends among tokens [0, k)
    edges = np.concatenate([[-1], at, [len(cue)]])
    return int((before[edges[1:]] - before[edges[:-1] + 1]).max()) < 2


_SENTENCE_END_HASHES = np.array([get_string_id(p) for p in (".", "!", "?", "...")], dtype=np.uint64)


def _line_break_hashes(doc: Doc) -> np.ndarray:
    """Hashes of the doc's whitespace tokens that hold a line break."""
    strings = doc.vocab.strings
    columns = doc.to_array([IS_SPACE, LOWER])
    spaces = set(columns[columns[:, 0] != 0, 1].tolist())
    return np.array([h for h in spaces if "\n" in strings[h]], dtype=np.uint64)


def selected_sentences(doc: Doc, vocab: CueVocabulary, cue: np.ndarray | None = None) -> list[tuple[int, int]]:
    """The token ranges of the sentences of ``doc`` (first pass: gazetteer entities and sentence starts)
    that need the parse, with neighbouring sentences merged into one range. ``cue``: its
    :func:`cue_tokens`, if the caller has them."""
    if not len(doc):
        return []
    starts = sentence_starts(doc)
    bounds = list(zip(starts, [*starts[1:], len(doc)], strict=True))
    cue = cue_tokens(doc, vocab) if cue is None else cue
    lower = doc.to_array(LOWER)
    phrase_word = np.isin(lower, vocab.phrase_words) if vocab.phrases else None
    wanted = np.zeros(len(bounds), dtype=bool)
    for index, (start, end) in enumerate(bounds):
        if cue[start:end].any():
            wanted[index] = True
        elif phrase_word is not None and phrase_word[start:end].any():
            present = set(lower[start:end][phrase_word[start:end]].tolist())
            wanted[index] = any(all(present & word for word in phrase) for phrase in vocab.phrases)
    sizes = [end - start for start, end in bounds]
    for index in np.flatnonzero(wanted).tolist():
        _add_context(wanted, sizes, index, -1, CONTEXT_BEFORE)
        _add_context(wanted, sizes, index, 1, CONTEXT_AFTER)
    return _merged(bound for bound, keep in zip(bounds, wanted.tolist(), strict=True) if keep)


def _add_context(wanted: np.ndarray, sizes: list[int], index: int, step: int, sentences: int) -> None:
    """Select ``sentences`` sentences from ``index`` in direction ``step``, and more while they hold fewer
    than CONTEXT_MIN_TOKENS tokens: the senter cuts datelines into fragments ("Moscow" | "[" | ...) that
    the parser would join, and a run must not start or end inside what the parser reads as one sentence."""
    tokens, taken, at = 0, 0, index + step
    while 0 <= at < len(sizes) and (taken < sentences or tokens < CONTEXT_MIN_TOKENS):
        wanted[at] = True
        tokens += sizes[at]
        taken += 1
        at += step


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in ranges:
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out
