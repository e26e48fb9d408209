"""Record types of the topic contract (docs/ARCHITECTURE.md, "The records contract"), ids, orjson encoding.

Every value on a wirewatch topic is UTF-8 JSON with a ``schema`` field; the JSON Schema of each
record ships beside this module in ``schemas/`` (see :func:`json_schema`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

ARTICLE_SCHEMA = "wirewatch.article/v1"
ENRICHED_SCHEMA = "wirewatch.enriched/v1"
ALERT_SCHEMA = "wirewatch.alert/v1"
INCIDENT_SCHEMA = "wirewatch.incident/v1"
DEADLETTER_SCHEMA = "wirewatch.deadletter/v1"

#: Record name → schema id; the JSON Schema file is ``schemas/<name>.json``.
SCHEMAS = {
    "article": ARTICLE_SCHEMA,
    "enriched": ENRICHED_SCHEMA,
    "alert": ALERT_SCHEMA,
    "incident": INCIDENT_SCHEMA,
    "deadletter": DEADLETTER_SCHEMA,
}


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(value: Any) -> datetime | None:
    """An aware datetime from an RFC 3339 string (naive times are taken as UTC); None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def dumps(value: Any) -> bytes:
    """The one encoder for topic values (orjson: UTF-8, no NaN, datetimes as RFC 3339)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


@cache
def json_schema(name: str) -> dict[str, Any]:
    """The shipped JSON Schema of record ``name`` (a key of :data:`SCHEMAS`)."""
    path = resources.files("wirewatch.streams") / "schemas" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


# ---- article ids ----------------------------------------------------------------------------------------
_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|ref|rss|src)$", re.I)
_SPACE = re.compile(r"\s+")


def evidence_items(alert: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The evidence of an Alert record as its ``{text, start, end}`` objects, in order; an item that is not an
    object is passed over (a record from another producer may be malformed)."""
    evidence = alert.get("evidence")
    if not isinstance(evidence, list):
        return []
    return [
        {"text": str(e.get("text") or ""), "start": e.get("start"), "end": e.get("end")}
        for e in evidence
        if isinstance(e, Mapping)
    ]


def evidence_texts(alert: Mapping[str, Any]) -> list[str]:
    """The evidence sentences of an Alert record (the ``text`` of :func:`evidence_items`), in order."""
    return [e["text"] for e in evidence_items(alert)]


def canonical_url(url: str) -> str:
    """Normalise a URL so that the same story gets the same id however it is linked.

    Lower-cases scheme and host, drops the fragment, default ports, tracking parameters and a trailing
    slash, and sorts the remaining query parameters.
    """
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    if scheme == "http":  # the same page over http and https is one story
        scheme = "https"
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or "/"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING_PARAMS.match(k)))
    return urlunsplit((scheme, host, path, query, ""))


def _normalise_text(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def article_id(url: str | None, title: str | None, text: str) -> str:
    """Stable id: a hash of the canonical URL, else of the normalised title + text (docs/ARCHITECTURE.md)."""
    if url and url.strip():
        basis = "url:" + canonical_url(url)
    else:
        basis = "text:" + _normalise_text(title or "") + "\n" + _normalise_text(text)
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


#: A plain-text article's headline: its first line, followed by a blank line, at most this long.
HEADLINE_MAX_CHARS = 200
_HEADLINE = re.compile(r"\A\s*(?P<line>[^\n]*\S)[ \t\r]*\n[ \t\r]*\n(?P<body>.*\S.*)\Z", re.S)


def headline_and_body(text: str) -> tuple[str, str]:
    """A plain-text article as (title, text): a first line of at most :data:`HEADLINE_MAX_CHARS` characters
    that is followed by a blank line and does not end as a sentence or an introduction does ('.', ':', ';')
    is the headline, and the text is what follows it; otherwise there is no title and the text is all of it."""
    m = _HEADLINE.match(text)
    if m is None:
        return "", text
    line = m.group("line").strip()
    if len(line) > HEADLINE_MAX_CHARS or line.endswith((".", ":", ";")):
        return "", text
    return line, text[m.start("body") :].lstrip()


# ---- records --------------------------------------------------------------------------------------------
@dataclass
class Article:
    id: str
    text: str
    url: str | None = None
    feed: str = "unknown"
    title: str = ""
    published_at: str | None = None
    fetched_at: str | None = None
    lang: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    schema: str = ARTICLE_SCHEMA

    @classmethod
    def create(
        cls,
        text: str,
        *,
        url: str | None = None,
        title: str = "",
        feed: str = "unknown",
        published_at: str | None = None,
        lang: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Article:
        """A new article with its stable id and ``fetched_at`` now."""
        return cls(
            id=article_id(url, title, text),
            text=text,
            url=url,
            feed=feed,
            title=title,
            published_at=published_at,
            fetched_at=now_rfc3339(),
            lang=lang,
            meta=dict(meta or {}),
        )

    @classmethod
    def from_plain_text(cls, text: str, *, title: str = "", url: str | None = None, feed: str = "unknown") -> Article:
        """A plain-text article (``ingest --text``, ``analyze FILE.txt``): without a ``title``, a headline
        (:func:`headline_and_body`) becomes the title and is not part of the text."""
        if not title:
            title, text = headline_and_body(text)
        return cls.create(text, url=url, title=title, feed=feed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_bytes(self) -> bytes:
        return dumps(self.to_dict())


#: What a dead letter keeps of its reason and of the original key: enough to debug and to route, bounded
#: so that the dead letter of any record fits the record limit.
MAX_ERROR_CHARS = 2000
MAX_DEADLETTER_KEY_BYTES = 1024


@dataclass
class DeadLetter:
    """A record that could not be processed, with everything needed to replay or debug it."""

    stage: str
    reason: str
    error: str
    original: bytes
    original_key: bytes | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    article_id: str | None = None
    time: str = field(default_factory=now_rfc3339)

    @property
    def key(self) -> bytes | None:
        """The dead letter's message key: the original key (its first MAX_DEADLETTER_KEY_BYTES)."""
        return self.original_key[:MAX_DEADLETTER_KEY_BYTES] if self.original_key is not None else None

    def to_dict(self, max_original_bytes: int | None = None) -> dict[str, Any]:
        """The record; the original is cut to ``max_original_bytes`` (and marked) when it is longer."""
        original = self.original[:max_original_bytes] if max_original_bytes is not None else self.original
        key = self.key
        return {
            "schema": DEADLETTER_SCHEMA,
            "stage": self.stage,
            "reason": self.reason,
            "error": self.error[:MAX_ERROR_CHARS],
            "original_b64": base64.b64encode(original).decode("ascii"),
            "original_bytes": len(self.original),
            "original_truncated": len(original) < len(self.original) or key != self.original_key,
            "original_key_b64": base64.b64encode(key).decode("ascii") if key is not None else None,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "article_id": self.article_id[:MAX_ERROR_CHARS] if self.article_id is not None else None,
            "time": self.time,
        }

    def to_bytes(self, max_bytes: int | None = None) -> bytes:
        """The record's JSON. With ``max_bytes``, the message (:attr:`key` and value) stays within it: an
        original too long to fit is cut (``original_truncated``; ``original_bytes`` keeps its size)."""
        if max_bytes is None:
            return dumps(self.to_dict())
        whole = dumps(self.to_dict())
        room = max_bytes - len(self.key or b"")
        if len(whole) <= room:
            return whole
        # base64 takes 4 bytes per 3; the rest of the record does not grow when the original shrinks.
        rest = len(whole) - 4 * -(-len(self.original) // 3)
        return dumps(self.to_dict(max_original_bytes=max(0, (room - rest) // 4 * 3)))

    @staticmethod
    def original_of(record: dict[str, Any]) -> bytes:
        """Decode the original bytes of a dead-letter record read from the topic."""
        return base64.b64decode(record["original_b64"])
