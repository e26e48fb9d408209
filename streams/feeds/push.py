"""HTTP push: ``POST /api/ingest`` on the worker's web server.

Request
    Body: one JSON object of Article fields, a JSON array of them, or JSONL (one object per line;
    ``Content-Type: application/x-ndjson`` or ``application/jsonl``, or any body that is not a single JSON
    document). ``?feed=NAME`` sets the ``feed`` of items that have none (default ``push``).
    With a token configured (``WIREWATCH_API_TOKEN``): ``Authorization: Bearer <token>``.

Each item is validated with the worker's own rules (``text`` required, field types, timestamps), so a
bad item is refused here with its reason rather than dead-lettered later. Good items are produced to
``news.raw`` (key = article id) and acknowledged by the broker before the response is sent.

Response (JSON)
    ``200`` when at least one item was accepted (a mixed batch included), ``400`` when none was (or the
    body is not JSON/JSONL, or empty), with ``{"accepted": n, "rejected": m, "results": [{"index": i,
    "status": "accepted", "id": "…"} | {"index": i, "status": "rejected", "reason": "missing_text",
    "error": "…"}]}`` (``index`` counts items from 0: array elements or non-empty lines).
    ``401`` without the right token, ``413`` for a body over the size limit, ``408`` when the body is
    not received within ``WIREWATCH_WEB_READ_TIMEOUT``, ``503`` when the broker did not acknowledge
    (retry: ids are stable, so a retry is a no-op downstream).

Beyond the worker's validation reasons, an item is refused with ``too_deep`` when its objects/arrays nest
deeper than :data:`~..validation.MAX_JSON_DEPTH` levels, and with ``bad_id`` when it brings its own ``id``
longer than :data:`~..validation.MAX_ID_CHARS` characters or with characters that are not printable (controls, format
characters such as bidi overrides): the id becomes the Kafka key, so it is never taken as it is.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from ..records import Article, dumps
from ..settings import Settings
from ..validation import InvalidRecord, check_depth
from ..web.auth import bearer_matches
from .jsonl import article_from_json
from .runner import WorkerProducer

log = logging.getLogger(__name__)

ROUTE = "/api/ingest"
_LINES_TYPES = ("ndjson", "jsonl", "json-lines", "jsonlines")
#: Longest client-supplied article id taken (the stable ids wirewatch makes have 32 characters).
MAX_ID_CHARS = 256


class BadBody(ValueError):
    """The body as a whole cannot be read as JSON or JSONL."""


@dataclass
class ItemResult:
    index: int
    status: str  # "accepted" or "rejected"
    id: str | None = None
    reason: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def split_items(body: bytes, content_type: str = "") -> list[bytes | InvalidRecord]:
    """The items of a request body, each as JSON bytes (a line that is not JSON stays as it is, so it is
    rejected on its own with ``not_json``; an array element nested too deep to be written again is its
    :class:`InvalidRecord`). Raises :class:`BadBody`."""
    if not body.strip():
        raise BadBody("the body is empty")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not UTF-8 (byte {exc.start})") from None
    as_lines = any(t in content_type.lower() for t in _LINES_TYPES)
    if not as_lines:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            if len([line for line in body.split(b"\n") if line.strip()]) < 2:
                raise BadBody(f"the body is not JSON: {exc}") from None
            as_lines = True  # several lines that are not one JSON document: JSONL
        else:
            if isinstance(document, dict):
                return [body]
            if isinstance(document, list):
                return [_element(item) for item in document]
            raise BadBody(f"the body must be a JSON object, an array or JSONL, not {type(document).__name__}")
    # Records end at b"\n" only (JSON Lines): bytes.splitlines also broke at a lone CR, JSON whitespace.
    return [line.strip() for line in body.split(b"\n") if line.strip()]


def _element(item: Any) -> bytes | InvalidRecord:
    try:
        check_depth(item)
    except InvalidRecord as exc:
        return exc
    return dumps(item)


@dataclass
class PushStats:
    requests: int = 0
    accepted: int = 0
    rejected: int = 0
    refused: dict[int, int] = field(default_factory=dict)  # HTTP status → count of refused requests


class PushIngest:
    """The ``POST /api/ingest`` handler (an aiohttp handler: ``await ingest(request)``)."""

    def __init__(
        self,
        producer: Any,
        *,
        token: str | None,
        max_bytes: int,
        settings: Settings | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.producer = producer
        self.token = token or None
        self.max_bytes = max_bytes
        self.settings = settings or Settings()
        self.read_timeout = self.settings.web_read_timeout if read_timeout is None else read_timeout
        self.stats = PushStats()

    def _json(self, status: int, payload: dict[str, Any]) -> Any:
        from aiohttp import web

        if status >= 400 and status != 400:
            self.stats.refused[status] = self.stats.refused.get(status, 0) + 1
        headers = {"WWW-Authenticate": 'Bearer realm="wirewatch"'} if status == 401 else None
        return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json", headers=headers)

    def authorized(self, request: Any) -> bool:
        return self.token is None or bearer_matches(self.token, request.headers)

    async def _read(self, request: Any) -> bytes | None:
        """The body, or None when it exceeds ``max_bytes`` (read in chunks: a huge body is never held)."""
        if request.content_length is not None and request.content_length > self.max_bytes:
            return None
        chunks, size = [], 0
        async for chunk in request.content.iter_chunked(65536):
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def __call__(self, request: Any) -> Any:
        self.stats.requests += 1
        if not self.authorized(request):
            return self._json(401, {"error": "missing or wrong bearer token"})
        try:
            async with asyncio.timeout(self.read_timeout):
                body = await self._read(request)
        except TimeoutError:
            return self._json(408, {"error": f"the body was not received within {self.read_timeout:g} s"})
        if body is None:
            return self._json(413, {"error": f"the body exceeds {self.max_bytes} bytes"})
        feed = (request.query.get("feed") or "push")[:128]
        try:
            items = split_items(body, request.headers.get("Content-Type", ""))
        except BadBody as exc:
            return self._json(400, {"error": str(exc), "accepted": 0, "rejected": 0, "results": []})
        results: list[ItemResult] = []
        good: list[tuple[bytes, bytes]] = []
        for index, raw in enumerate(items):
            try:
                article = self._article(raw, feed)
                record = (article.id.encode("utf-8"), article.to_bytes())
            except InvalidRecord as exc:
                results.append(ItemResult(index, "rejected", id=exc.article_id, reason=exc.reason, error=exc.detail))
                continue
            results.append(ItemResult(index, "accepted", id=article.id))
            good.append(record)
        try:
            for key, value in good:
                await self.producer.send(key, value)
        except Exception as exc:
            log.exception("ingest: producing to news.raw failed")
            return self._json(503, {"error": f"the broker did not accept the articles: {type(exc).__name__}"})
        accepted = len(good)
        self.stats.accepted += accepted
        self.stats.rejected += len(results) - accepted
        payload = {
            "accepted": accepted,
            "rejected": len(results) - accepted,
            "results": [r.to_dict() for r in results],
        }
        return self._json(200 if accepted else 400, payload)

    def _article(self, raw: bytes | InvalidRecord, feed: str) -> Article:
        """One item as a checked Article; raises :class:`InvalidRecord`."""
        if isinstance(raw, InvalidRecord):
            raise raw
        return article_from_json(raw, feed=feed, settings=self.settings)


def register_push(pipeline: Any, token: str | None, max_bytes: int) -> PushIngest:
    """Add ``POST /api/ingest`` to the worker's web server, producing through the worker's producer."""
    handler = PushIngest(WorkerProducer(pipeline), token=token, max_bytes=max_bytes, settings=pipeline.settings)
    # Faust's aiohttp driver exposes its aiohttp Application; a plain route keeps the streaming body
    # read (and so the size limit) in our hands rather than aiohttp's client_max_size.
    pipeline.app.web.web_app.router.add_post(ROUTE, handler)
    return handler
