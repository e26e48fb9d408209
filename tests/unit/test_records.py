from __future__ import annotations

import base64
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wirewatch.streams.records import (
    SCHEMAS,
    Article,
    DeadLetter,
    article_id,
    canonical_url,
    dumps,
    evidence_texts,
    json_schema,
    loads,
)
from wirewatch.streams.settings import Settings
from wirewatch.streams.tail import format_alert
from wirewatch.streams.topics import CATALOG, topic_names


def test_id_of_url_ignores_tracking_fragment_case_and_scheme() -> None:
    a = article_id("https://www.Example.com/world/story-1/?utm_source=x&b=2&a=1#top", "T", "text")
    b = article_id("http://example.com/world/story-1?a=1&b=2", "Other title", "other text")
    assert a == b
    assert a != article_id("https://example.com/world/story-2", "T", "text")


def test_id_without_url_hashes_normalised_title_and_text() -> None:
    a = article_id(None, "Missile  launch", "North Korea fired\n two missiles.")
    assert a == article_id("", "missile launch", "North Korea fired two missiles.")
    assert a != article_id(None, "missile launch", "North Korea fired three missiles.")
    assert len(a) == 32


@given(st.text(min_size=1), st.text())
def test_ids_are_stable_and_hex(text: str, title: str) -> None:
    first = article_id(None, title, text)
    assert first == article_id(None, title, text)
    int(first, 16)


def test_canonical_url_keeps_meaningful_query_and_port() -> None:
    assert (
        canonical_url("HTTPS://news.example.org:8443/a/?id=7&utm_medium=rss") == "https://news.example.org:8443/a?id=7"
    )


def test_every_catalog_record_has_a_schema_file() -> None:
    for name, schema_id in SCHEMAS.items():
        schema = json_schema(name)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"] == schema_id


def test_article_round_trip_validates_against_schema() -> None:
    article = Article.create("North Korea fired a missile.", url="https://example.org/a", title="Launch")
    value = loads(article.to_bytes())
    jsonschema.validate(value, json_schema("article"))
    assert value["id"] == article_id("https://example.org/a", "", "")
    assert value["schema"] == "wirewatch.article/v1"


def test_dead_letter_keeps_original_bytes_and_validates() -> None:
    original = b"\xff\xfenot utf-8"
    letter = DeadLetter(stage="validate", reason="not_utf8", error="bad byte", original=original, original_key=b"k")
    value = loads(letter.to_bytes())
    jsonschema.validate(value, json_schema("deadletter"))
    assert DeadLetter.original_of(value) == original
    assert base64.b64decode(value["original_key_b64"]) == b"k"


def test_schema_rejects_alert_without_evidence() -> None:
    alert = {
        "schema": "wirewatch.alert/v1",
        "alert_id": "a",
        "incident_id": "i",
        "article_id": "x",
        "kind": "icbm",
        "modality": "occurred",
        "actor": "North Korea",
        "details": {},
        "severity": "critical",
        "confidence": 0.9,
        "evidence": [],
        "detected_at": "2026-01-01T00:00:00Z",
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(alert, json_schema("alert"))


def test_topic_catalog_with_prefix_and_compaction() -> None:
    names = topic_names(Settings(topic_prefix="t1."))
    assert names == [
        "t1.news.raw",
        "t1.news.raw.priority",
        "t1.news.enriched",
        "t1.news.alerts",
        "t1.news.incidents",
        "t1.news.deadletter",
        "t1.news.subscriptions",
        "t1.news.subscriptions.state",
    ]
    compacted = [spec.name for spec in CATALOG if spec.config().get("cleanup.policy") == "compact"]
    assert compacted == ["news.incidents", "news.subscriptions", "news.subscriptions.state"]
    large = {spec.name: spec.config(Settings(max_record_bytes=4_000_000)).get("max.message.bytes") for spec in CATALOG}
    # the dead letter carries the original record (cut to the limit): it needs the same room
    expected = str(4_000_000 + (1 << 20))
    for name in ("news.raw", "news.raw.priority", "news.enriched", "news.deadletter"):
        assert large[name] == expected, name
    assert large["news.alerts"] is None


def test_dumps_is_orjson_utf8() -> None:
    assert dumps({"t": "Pyongyang – “quote”"}) == '{"t":"Pyongyang – “quote”"}'.encode()


# ---- the evidence sentences of an Alert, read in one place ----------------------------------------------
@pytest.mark.parametrize(
    ("evidence", "texts"),
    [
        (
            [{"text": "It fired.", "start": 0, "end": 9}, {"text": "It flew far.", "start": 10, "end": 22}],
            ["It fired.", "It flew far."],
        ),
        (["a bare string", {"text": "It fired."}, 3, {"start": 0}], ["It fired.", ""]),
        ({"text": "an object, not a list"}, []),
        (None, []),
    ],
)
def test_evidence_texts_and_the_tail_line_read_any_alert(evidence: Any, texts: list[str]) -> None:
    """Sinks, subscriptions, the archive and ``alerts tail`` read the sentences the same way; a malformed
    record from another producer is shown without its evidence instead of stopping the tail."""
    alert = {"severity": "high", "actor": "North Korea", "kind": "icbm", "evidence": evidence}
    assert evidence_texts(alert) == texts
    assert format_alert(alert).splitlines()[1].strip() == (texts[0] if texts else "")


# ---- plain text: a headline is the title ------------------------------------------------------------------
# (lines written for the project)
@pytest.mark.parametrize(
    ("text", "title", "body"),
    [
        (
            "Missile fired, Seoul says\n\nThe missile flew 400 km.\n",
            "Missile fired, Seoul says",
            "The missile flew 400 km.\n",
        ),
        (
            "\n  Will Pyongyang fire again?  \r\n \r\nOfficials expect a test.",
            "Will Pyongyang fire again?",
            "Officials expect a test.",
        ),
        # a sentence, an introduction, no blank line after it, nothing after it, too long: no headline
        ("The missile flew 400 km.\n\nIt fell into the sea.", "", None),
        ("Officials said:\n\nA test is near.", "", None),
        ("Missile fired, Seoul says\nThe missile flew 400 km.", "", None),
        ("Missile fired, Seoul says\n\n", "", None),
        ("word " * 41 + "\n\nThe missile flew 400 km.", "", None),
    ],
)
def test_a_plain_text_headline_is_the_title(text: str, title: str, body: str | None) -> None:
    article = Article.from_plain_text(text, feed="cli")
    assert (article.title, article.text) == (title, text if body is None else body)
    assert Article.from_plain_text(text, title="Given").text == text  # a title given keeps the text whole
