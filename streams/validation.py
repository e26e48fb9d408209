"""Validation of raw records read from ``news.raw``: bytes in, an :class:`Article` or a reason out."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson

from .records import ARTICLE_SCHEMA, Article, article_id

#: Reason codes of dead letters written by validation (documented in the README).
REASONS = (
    "too_large",
    "not_utf8",
    "not_json",
    "not_object",
    "unknown_schema",
    "missing_text",
    "empty_text",
    "wrong_type",
    "bad_timestamp",
    "bad_url",
    "too_deep",
    "bad_id",
)

#: Deepest nesting of objects and arrays a record may have (the record itself is level 1, so ``meta``'s
#: own values may nest 62 more levels). Far above what any article needs, and far below the 254 levels
#: orjson can encode, so an accepted article can always be written out again.
MAX_JSON_DEPTH = 64
#: Longest id a producer may give an article (the id becomes the Kafka key of every output).
MAX_ID_CHARS = 256

_STRING_FIELDS = ("id", "url", "feed", "title", "published_at", "fetched_at", "lang", "schema")
# C0/C1 control characters except tab, newline and carriage return: they break tokenisation and
# terminals and carry no meaning in news text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class InvalidRecord(ValueError):
    """A raw record that cannot become an Article; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str, article_id: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.article_id = article_id


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise ``InvalidRecord("too_deep", ...)`` when objects/arrays in ``value`` nest deeper than ``limit``
    (the outermost container is level 1). Level by level, without recursion: no limit to hit on hostile
    input."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return
    raise InvalidRecord("too_deep", f"objects and arrays nest deeper than {limit} levels")


def load_json(raw: bytes) -> Any:
    """``raw`` parsed, refused as ``not_json`` or ``too_deep`` (nested deeper than :data:`MAX_JSON_DEPTH`):
    a value this returns can always be written out again by orjson."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):  # orjson's own limit (1024), far above ours
            raise InvalidRecord("too_deep", f"objects and arrays nest deeper than {MAX_JSON_DEPTH} levels") from None
        raise InvalidRecord("not_json", str(exc)) from None
    # Only a record with more opening brackets than the limit can be too deep: most records skip the walk.
    if raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH:
        check_depth(data)
    return data


def check_id(article_id: str) -> None:
    """Refuse (``bad_id``) a producer's own id that must not become a Kafka key as it is: longer than
    :data:`MAX_ID_CHARS`, or with characters that are not printable (controls, bidi and other format
    characters)."""
    if len(article_id) > MAX_ID_CHARS:
        raise InvalidRecord("bad_id", f"the id has {len(article_id)} characters, more than {MAX_ID_CHARS}")
    if not article_id.isprintable():
        raise InvalidRecord("bad_id", "the id contains control or format characters")


def clean_text(text: str) -> str:
    """Drop control characters (keeping tab and line breaks)."""
    return _CONTROL.sub("", text)


def truncate_utf8(text: str, max_bytes: int) -> tuple[str, bool]:
    """Cut ``text`` to at most ``max_bytes`` of UTF-8 on a character boundary (and, if possible, a space)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text, False
    cut = encoded[:max_bytes].decode("utf-8", errors="ignore")
    space = cut.rfind(" ", max(0, len(cut) - 200))
    return (cut[:space] if space > 0 else cut), True


def _check_timestamp(name: str, value: str | None) -> None:
    if value is None:
        return
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRecord("bad_timestamp", f"{name} is not RFC 3339: {value[:64]!r}") from None


def parse_article(raw: bytes | None, *, max_article_bytes: int, max_record_bytes: int) -> Article:
    """Validate one ``news.raw`` value and return the Article it describes.

    Text longer than ``max_article_bytes`` is truncated and marked in ``meta`` (``truncated``,
    ``original_text_bytes``); a record longer than ``max_record_bytes`` is refused unparsed.
    Raises :class:`InvalidRecord` with a reason code for everything else that is wrong.
    """
    if raw is None:
        raise InvalidRecord("not_json", "the record has no value (tombstone)")
    if len(raw) > max_record_bytes:
        raise InvalidRecord("too_large", f"{len(raw)} bytes exceeds the {max_record_bytes}-byte record limit")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRecord("not_utf8", f"invalid UTF-8 at byte {exc.start}") from None
    data = load_json(raw)
    if not isinstance(data, dict):
        raise InvalidRecord("not_object", f"expected a JSON object, got {type(data).__name__}")

    schema = data.get("schema", ARTICLE_SCHEMA)
    if schema != ARTICLE_SCHEMA:
        raise InvalidRecord("unknown_schema", f"schema {str(schema)[:64]!r} is not {ARTICLE_SCHEMA!r}")
    for name in _STRING_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidRecord("wrong_type", f"{name} must be a string, got {type(value).__name__}")
    if "text" not in data or data["text"] is None:
        raise InvalidRecord("missing_text", "the article has no text field")
    if not isinstance(data["text"], str):
        raise InvalidRecord("wrong_type", f"text must be a string, got {type(data['text']).__name__}")
    meta = data.get("meta") or {}
    if not isinstance(meta, dict):
        raise InvalidRecord("wrong_type", f"meta must be an object, got {type(meta).__name__}")
    _check_timestamp("published_at", data.get("published_at"))
    _check_timestamp("fetched_at", data.get("fetched_at"))

    text = clean_text(data["text"]).strip()
    url = data.get("url") or None
    title = clean_text(data.get("title") or "").strip()
    # The id is computed before truncation so a re-sent long article keeps its id.
    if data.get("id"):
        check_id(data["id"])
    try:
        aid = data.get("id") or article_id(url, title, text)
    except ValueError as exc:  # urlsplit: a malformed host or port
        raise InvalidRecord("bad_url", f"url is not a URL ({exc}): {url[:64]!r}") from None
    if not text:
        raise InvalidRecord("empty_text", "the article text is empty", article_id=aid)
    text, truncated = truncate_utf8(text, max_article_bytes)
    if truncated:
        meta = {**meta, "truncated": True, "original_text_bytes": len(data["text"].encode("utf-8"))}
    return Article(
        id=aid,
        text=text,
        url=url,
        feed=data.get("feed") or "unknown",
        title=title,
        published_at=data.get("published_at"),
        fetched_at=data.get("fetched_at"),
        lang=data.get("lang"),
        meta=meta,
    )
