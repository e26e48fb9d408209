"""The enrich path's pure part: batches, memory zones, the language gate and the record shape."""

from __future__ import annotations

from importlib import resources

import jsonschema
import orjson
import pytest
from spacy.language import Language

from wirewatch.agents.enrichment import analyze_texts, enrich_articles, looks_english
from wirewatch.streams.records import Article, json_schema


def demo_articles() -> list[Article]:
    text = (resources.files("wirewatch.streams") / "data" / "demo_feed.jsonl").read_text(encoding="utf-8")
    return [Article.create(**orjson.loads(line)) for line in text.splitlines() if line.strip()]


def test_many_small_batches_in_memory_zones(nlp: Language) -> None:
    """Each batch runs in its own memory zone; nothing a batch adds may be needed by the next one.

    Regression: the NER learns the gazetteer's WEAPON label on the first doc that has one; inside a zone
    that label's string was freed and every later doc failed (spaCy E018).
    """
    weapon = Article.create("North Korea test-fired a Hwasong-18 and a KN-23 on Monday, Seoul said.")
    records = enrich_articles(nlp, [weapon])
    assert any(e["label"] == "WEAPON" for e in records[0]["entities"])
    for article in [weapon, *demo_articles()]:
        (record,) = enrich_articles(nlp, [article])
        assert record["id"] == article.id


def test_records_follow_the_schema_and_keep_order(nlp: Language) -> None:
    articles = demo_articles()
    records = enrich_articles(nlp, articles, batch_size=4)
    assert [r["id"] for r in records] == [a.id for a in articles]
    for record in records:
        jsonschema.validate(record, json_schema("enriched"))
        assert record["processing"]["batch"] == len(articles)
    alertable = [r["title"] for r in records if any(s["alertable"] for s in r["signals"])]
    assert "Carmaker launches electric pickup" not in alertable
    assert "North Korea fires two ballistic missiles into the sea" in alertable


def test_the_demo_feeds_warnings_and_threats_name_who_said_them(nlp: Language) -> None:
    """``wirewatch demo`` shows an alert's speaker beside a warning or a threat: each such alert of the sample
    feed has one (its threat article named no one, and its alert showed no speaker)."""
    articles = demo_articles()
    analyses = analyze_texts(nlp, [a.text for a in articles])
    unspoken = [
        (article.title, finding.modality)
        for article, analysis in zip(articles, analyses, strict=True)
        for finding in analysis.detection.findings
        if finding.modality != "occurred" and not finding.speaker
    ]
    spoken = [f for a in analyses for f in a.detection.findings if f.modality != "occurred" and f.speaker]
    assert not unspoken and {f.modality for f in spoken} == {"possible", "threatened"}, unspoken


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("North Korea fired two missiles on Monday, the military said, and Japan protested.", True),
        ("Die Regierung hat am Montag einen neuen Haushalt vorgelegt, die Opposition kritisierte ihn scharf.", False),
        ("Le gouvernement a présenté lundi un nouveau budget, vivement critiqué par l'opposition au parlement.", False),
        ("Pyongyang, Seoul.", True),  # too short to judge: analysed
    ],
)
def test_language_gate(text: str, english: bool) -> None:
    assert looks_english(text) is english


def test_declared_language_is_respected(nlp: Language) -> None:
    article = Article.create("North Korea fired two missiles on Monday, the military said.", lang="de")
    (record,) = enrich_articles(nlp, [article])
    assert record["processing"]["skipped"] == "unsupported_language"
    assert record["entities"] == []


@pytest.mark.parametrize(
    ("url", "published_at", "alertable"),
    [
        ("https://news.example.com/world/story", None, True),
        ("https://news.example.com/2017/12/01/story/", None, False),  # dated by its address
        ("https://news.example.com/world/story", "2017-12-01T08:00:00Z", False),
        ("https://news.example.com/2017/12/01/story/", "2017-09-10T08:00:00Z", True),  # published_at first
    ],
)
def test_an_articles_date_reaches_the_detector(
    nlp: Language, url: str, published_at: str | None, alertable: bool
) -> None:
    """A launch dated by a month alone is background only against the article's date: its ``published_at``,
    else the date in its ``url`` (a sentence written for the project)."""
    text = "In August North Korea fired a ballistic missile over Japan, the ministry said."
    article = Article.create(text, url=url, feed="written", published_at=published_at)
    [record] = enrich_articles(nlp, [article])
    assert [s["alertable"] for s in record["signals"]] == [alertable]
