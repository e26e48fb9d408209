"""Enrichment, the pure part: articles in, EnrichedArticle dicts out, one ``nlp.pipe`` per batch.

The enrich agent, ``wirewatch analyze`` and the evaluation commands all call :func:`enrich_articles`, so
what a user sees offline is exactly what the stream produces.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from wirewatch.streams.records import ENRICHED_SCHEMA, Article

from .detector import Detection, DetectorConfig, detect
from .nlp import EntityMention, TextMeta, analyze_each, canonical_counts, entities_of
from .stance import Stance, tag_stances

# A cheap language gate: the English model on other languages yields confident nonsense entities, so
# text with too few English function words is passed through unanalysed (and marked so).
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_EN_FUNCTION_WORDS = frozenset(
    {
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "on",
        "was",
        "with",
        "as",
        "by",
        "at",
        "from",
        "it",
        "be",
        "has",
        "have",
        "said",
        "are",
        "were",
        "will",
        "its",
        "an",
        "this",
        "not",
        "but",
        "or",
        "which",
        "their",
        "they",
        "he",
        "she",
        "had",
        "been",
        "would",
        "who",
        "after",
        "also",
    }
)
MIN_WORDS_FOR_LANGUAGE_CHECK = 12
MIN_ENGLISH_RATIO = 0.08


def looks_english(text: str) -> bool:
    """True unless the text is long enough to judge and has almost no English function words."""
    words = _WORD.findall(text[:4000].lower())
    if len(words) < MIN_WORDS_FOR_LANGUAGE_CHECK:
        return True
    return sum(w in _EN_FUNCTION_WORDS for w in words) / len(words) >= MIN_ENGLISH_RATIO


def is_supported(article: Article) -> bool:
    if article.lang and not article.lang.lower().startswith("en"):
        return False
    return looks_english(article.text)


@dataclass(frozen=True)
class Analysis:
    """What the pipeline found in one text (kept as objects for the alert logic and the evaluators)."""

    entities: list[EntityMention]
    stances: list[Stance]
    detection: Detection


def analyze_doc(doc: Doc, config: DetectorConfig | None = None, meta: TextMeta | None = None) -> Analysis:
    entities = entities_of(doc)
    return Analysis(
        entities=entities,
        stances=tag_stances(doc, entities),
        detection=detect(doc, entities, meta=meta, config=config),
    )


def analyze_texts(
    nlp: Language,
    texts: Sequence[str],
    *,
    batch_size: int = 16,
    config: DetectorConfig | None = None,
    meta: Sequence[TextMeta] | None = None,
) -> list[Analysis]:
    """Parse ``texts`` with one ``nlp.pipe`` and analyse each doc, with its article's ``meta`` (date, address,
    title) when known.

    Runs inside ``nlp.memory_zone()`` so the strings of this batch are freed afterwards: without it the
    StringStore of a long-running worker grows with every new word it sees. Docs are invalid after the
    zone, so everything is extracted inside it.
    """
    return analyze_each(
        nlp,
        texts,
        lambda doc, known: analyze_doc(doc, config, known),
        batch_size=batch_size,
        meta=meta,
    )


def model_name(nlp: Language) -> str:
    return f"{nlp.meta.get('lang', 'xx')}_{nlp.meta.get('name', 'model')}-{nlp.meta.get('version', '?')}"


def enriched_record(
    article: Article, analysis: Analysis | None, *, model: str, ms: float, batch: int = 1
) -> dict[str, Any]:
    """The EnrichedArticle v1 value for ``article`` (``analysis`` None: language not supported).

    ``processing.ms`` is the article's share of its batch's time; ``processing.batch`` the batch size.
    """
    record: dict[str, Any] = article.to_dict()
    record["schema"] = ENRICHED_SCHEMA
    processing: dict[str, Any] = {"model": model, "ms": round(ms, 3), "batch": batch}
    if analysis is None:
        processing["skipped"] = "unsupported_language"
        record.update(entities=[], entity_counts={}, stances=[], signals=[], processing=processing)
        return record
    record["entities"] = [
        {"text": m.text, "label": m.label, "start": m.start, "end": m.end, "canonical": m.canonical, "count": m.count}
        for m in analysis.entities
    ]
    record["entity_counts"] = canonical_counts(analysis.entities)
    record["stances"] = [s.to_dict() for s in analysis.stances]
    record["signals"] = [s.to_dict() for s in analysis.detection.signals]
    record["processing"] = processing
    return record


def enrich_articles(
    nlp: Language,
    articles: Sequence[Article],
    *,
    batch_size: int = 16,
    config: DetectorConfig | None = None,
) -> list[dict[str, Any]]:
    """EnrichedArticle records for ``articles``, in order; unsupported languages are passed through."""
    started = time.perf_counter()
    supported = [a for a in articles if is_supported(a)]
    analyses = analyze_texts(
        nlp,
        [a.text for a in supported],
        batch_size=batch_size,
        config=config,
        meta=[TextMeta(published_at=a.published_at, url=a.url, title=a.title) for a in supported],
    )
    by_id = {id(a): an for a, an in zip(supported, analyses, strict=True)}
    per_article_ms = (time.perf_counter() - started) * 1000 / max(1, len(articles))
    model = model_name(nlp)
    return [enriched_record(a, by_id.get(id(a)), model=model, ms=per_article_ms, batch=len(articles)) for a in articles]
