"""Poison records without a broker: validation refuses what could not be written out again, and the dead
letter of any record fits the record limit."""

from __future__ import annotations

import jsonschema
import orjson
import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError
from faust.exceptions import ProducerSendError
from hypothesis import given, settings
from hypothesis import strategies as st

from wirewatch.agents.enrichment import enriched_record
from wirewatch.streams.pipeline import refused_for_itself
from wirewatch.streams.records import DeadLetter, json_schema
from wirewatch.streams.validation import MAX_JSON_DEPTH, REASONS, InvalidRecord, check_depth, parse_article

LIMITS = {"max_article_bytes": 2000, "max_record_bytes": 50_000}


def nested_meta(levels: int) -> bytes:
    """An article whose ``meta`` nests ``levels`` objects (built as bytes: orjson cannot encode > 254)."""
    return b'{"text": "Seoul said talks would resume.", "meta": ' + b'{"a": ' * levels + b"1" + b"}" * levels + b"}"


def reason_of(raw: bytes) -> str:
    with pytest.raises(InvalidRecord) as info:
        parse_article(raw, **LIMITS)
    return info.value.reason


def test_meta_nested_300_levels_is_too_deep() -> None:
    """The record of issue 20: ~2 KB, parsed by orjson, but its enriched record could not be encoded."""
    raw = nested_meta(300)
    assert len(raw) < 2500
    assert reason_of(raw) == "too_deep"
    assert reason_of(b"[" * 2000 + b"]" * 2000) == "too_deep"  # beyond orjson's own parse limit too


def test_depth_limit_is_exact() -> None:
    # The record is level 1 and meta level 2: meta and the objects in it may nest MAX_JSON_DEPTH - 1 deep.
    article = parse_article(nested_meta(MAX_JSON_DEPTH - 1), **LIMITS)
    orjson.dumps(article.to_dict())
    assert reason_of(nested_meta(MAX_JSON_DEPTH)) == "too_deep"
    deepest = [[]]
    for _ in range(MAX_JSON_DEPTH - 2):
        deepest = [deepest]
    check_depth(deepest)
    with pytest.raises(InvalidRecord, match="too_deep"):
        check_depth([deepest])
    check_depth("scalar")
    check_depth({})


@pytest.mark.parametrize("url", ["http://[", "https://example.org:99999/x", "http://a:-1/"])
def test_malformed_url_is_refused_not_raised(url: str) -> None:
    assert reason_of(orjson.dumps({"text": "Seoul said talks would resume.", "url": url})) == "bad_url"


@pytest.mark.parametrize("size", [10, 40_000, 120_000])
def test_dead_letter_fits_the_limit_with_its_original_cut_and_measured(size: int) -> None:
    original = b"\xff" + b"x" * (size - 1)
    letter = DeadLetter("validate", "not_utf8", "e" * 10_000, original, original_key=b"k" * 5000, offset=7)
    value = letter.to_bytes(50_000)
    message_bytes = len(value) + len(letter.key or b"")
    assert message_bytes <= 50_000
    record = orjson.loads(value)
    jsonschema.validate(record, json_schema("deadletter"))
    kept = DeadLetter.original_of(record)
    assert original.startswith(kept)
    assert record["original_bytes"] == size
    assert record["original_truncated"] is True  # the 5000-byte key was cut in every case
    assert len(kept) == size or message_bytes > 49_900  # cut only as far as needed


def test_dead_letter_of_a_small_record_is_whole() -> None:
    letter = DeadLetter("validate", "not_json", "bad", b"{nope", original_key=b"k1")
    record = orjson.loads(letter.to_bytes(50_000))
    assert DeadLetter.original_of(record) == b"{nope" and record["original_truncated"] is False
    assert record["original_bytes"] == 5 and letter.key == b"k1"


# Odd JSON: any shape, nested anywhere, with the field names an article has.
FIELDS = st.sampled_from(["text", "title", "url", "meta", "id", "schema", "published_at", "lang", "feed", "x"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(FIELDS, inner, max_size=5))


@st.composite
def raw_records(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "article", "deep"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "json":
        return orjson.dumps(draw(JSON))
    article = {"text": draw(st.text(min_size=1, max_size=200)), "meta": draw(st.dictionaries(st.text(), JSON))}
    article.update(draw(st.dictionaries(FIELDS, SCALARS, max_size=3)))
    raw = orjson.dumps(article)
    if kind == "deep":  # the meta wrapped in up to 300 more levels
        levels = draw(st.integers(min_value=1, max_value=300))
        raw = raw[:-1] + b', "deep": ' + b"[" * levels + b"]" * levels + b"}"
    return raw


@settings(max_examples=400, derandomize=True, deadline=None)
@given(raw_records())
def test_any_record_gives_an_encodable_article_or_a_reason_and_a_dead_letter_that_fits(raw: bytes) -> None:
    try:
        article = parse_article(raw, **LIMITS)
    except InvalidRecord as exc:
        assert exc.reason in REASONS
        letter = DeadLetter("validate", exc.reason, exc.detail, raw, original_key=raw[:40])
        value = letter.to_bytes(LIMITS["max_record_bytes"])
        assert len(value) + len(letter.key or b"") <= LIMITS["max_record_bytes"]
        jsonschema.validate(orjson.loads(value), json_schema("deadletter"))
    else:
        # What the enrich agent writes for it can always be encoded (the analysis adds flat lists).
        record = enriched_record(article, None, model="m", ms=1.0)
        assert orjson.loads(orjson.dumps(record))["id"] == article.id


def test_a_send_refused_for_the_message_itself_is_told_from_an_outage() -> None:
    """Faust wraps aiokafka's error (ProducerSendError from ...): a size refusal is found in the causes and
    dead-lettered; anything else (a timeout, a broker gone) is retried."""
    try:
        try:
            raise MessageSizeTooLargeError("too big")
        except MessageSizeTooLargeError as exc:
            raise ProducerSendError("Error while sending") from exc
    except ProducerSendError as wrapped:
        assert refused_for_itself(wrapped)
    assert refused_for_itself(MessageSizeTooLargeError())
    assert not refused_for_itself(KafkaTimeoutError())
    assert not refused_for_itself(ProducerSendError("Error while sending"))
