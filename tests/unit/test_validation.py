from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wirewatch.streams.records import article_id
from wirewatch.streams.validation import REASONS, InvalidRecord, parse_article, truncate_utf8

LIMITS = {"max_article_bytes": 2000, "max_record_bytes": 10_000}


def parse(raw: bytes | None):
    return parse_article(raw, **LIMITS)


def reason_of(raw: bytes | None) -> str:
    with pytest.raises(InvalidRecord) as info:
        parse(raw)
    assert info.value.reason in REASONS
    return info.value.reason


def test_good_article_gets_stable_id_and_defaults() -> None:
    article = parse(orjson.dumps({"text": "  North Korea fired a missile.  ", "url": "https://e.org/x"}))
    assert article.text == "North Korea fired a missile."
    assert article.id == article_id("https://e.org/x", "", "")
    assert article.feed == "unknown"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe\x00garbage", "not_utf8"),
        (b"{not json", "not_json"),
        (None, "not_json"),
        (b"[1, 2]", "not_object"),
        (b'{"title": "no text"}', "missing_text"),
        (b'{"text": null}', "missing_text"),
        (b'{"text": "   \\n "}', "empty_text"),
        (b'{"text": 42}', "wrong_type"),
        (b'{"text": "x", "title": ["a"]}', "wrong_type"),
        (b'{"text": "x", "meta": "m"}', "wrong_type"),
        (b'{"text": "x", "schema": "wirewatch.article/v9"}', "unknown_schema"),
        (b'{"text": "x", "published_at": "yesterday"}', "bad_timestamp"),
        (b'{"text": "' + b"a" * 20_000 + b'"}', "too_large"),
    ],
)
def test_invalid_records_have_reasons(raw: bytes | None, reason: str) -> None:
    assert reason_of(raw) == reason


def test_long_text_is_truncated_and_marked() -> None:
    text = "word " * 1000  # 5000 bytes, over the 2000-byte article limit but under the record limit
    article = parse(orjson.dumps({"text": text}))
    assert len(article.text.encode()) <= 2000
    assert article.meta["truncated"] is True
    assert article.meta["original_text_bytes"] == len(text.encode())


def test_control_characters_are_removed() -> None:
    article = parse(orjson.dumps({"text": "Pyong\x00yang\x1b[31m fired\x07 a missile.\nNext line."}))
    assert article.text == "Pyongyang[31m fired a missile.\nNext line."


@given(st.text(), st.integers(min_value=1, max_value=64))
def test_truncate_utf8_never_splits_a_character(text: str, limit: int) -> None:
    cut, truncated = truncate_utf8(text, limit)
    assert len(cut.encode("utf-8")) <= limit
    assert text.startswith(cut)
    assert truncated == (len(text.encode("utf-8")) > limit)


@given(st.binary(max_size=300))
def test_any_bytes_give_an_article_or_a_reason(raw: bytes) -> None:
    try:
        article = parse(raw)
    except InvalidRecord as exc:
        assert exc.reason in REASONS
    else:
        assert article.text.strip()
