"""RSS 2.0 / RSS 1.0 / Atom feeds: feedparser over aiohttp, with conditional GET and full-text fetch.

Options (``[[feed]]`` table, type ``rss`` or ``atom``):

=====================  ==========  ====================================================================
``url``                required    the feed's URL (http or https)
``interval``           300         seconds between polls (± ``jitter``, a fraction, default 0.1)
``backoff``            10          first wait after a failed poll; doubles per failure up to ``max_backoff``
``max_backoff``        1800
``timeout``            20          seconds for the whole feed request
``max_bytes``          10000000    a larger feed body is refused (an error)
``max_items``          50          at most this many entries per poll (feed order: usually newest first)
``full_text``          false       fetch each new item's link and extract the article with trafilatura
``full_text_timeout``  15          per page
``full_text_max_bytes`` 5000000    per page
``full_text_per_host`` 2           concurrent page fetches per host (shared by all feeds)
``lang``               (feed's)    language code to record when the feed declares none
=====================  ==========  ====================================================================

When the full text cannot be had, the article keeps the entry's summary and ``meta.full_text`` says
``"failed: <why>"`` (``"ok"`` when it worked). The ETag and Last-Modified of the last good fetch are kept
in the feed state and sent back (``If-None-Match`` / ``If-Modified-Since``); a 304 is a successful, empty
poll. HTTP errors, timeouts, oversized bodies and malformed XML with no entries are failed polls.
"""

from __future__ import annotations

import asyncio
import html
import io
import re
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from ..records import Article, article_id
from .base import BaseFeed, FeedConfigError, FeedContext, FeedError, RawRecord
from .fulltext import FetchTooLarge, read_capped

_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "tr",
    "section",
    "article",
    "header",
    "footer",
    "pre",
    "table",
}
_SKIP = {"script", "style", "noscript"}
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment (a feed summary): tags dropped, entities decoded, paragraphs kept."""
    if "<" not in markup:
        return _SPACES.sub(" ", html.unescape(markup)).strip()
    parser = _TextOf()
    parser.feed(markup)
    parser.close()
    text = _SPACES.sub(" ", "".join(parser.parts))
    return _BLANK_LINES.sub("\n", text).strip()


def _rfc3339(parsed: Any) -> str | None:
    """feedparser's UTC struct_time → RFC 3339."""
    if not parsed:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC).isoformat().replace("+00:00", "Z")
    except (TypeError, ValueError):
        return None


def entry_text(entry: Mapping[str, Any]) -> str:
    """The longest of the entry's content blocks and summary, as plain text."""
    candidates = [c.get("value", "") for c in entry.get("content", []) or []]
    candidates.append(entry.get("summary", "") or "")
    texts = [html_to_text(c) for c in candidates if c]
    return max(texts, key=len, default="")


def entry_article(entry: Mapping[str, Any], *, feed_id: str, feed_url: str, lang: str | None) -> Article | None:
    """An Article from one parsed entry (summary text), or None for an entry with no text and no title."""
    link = (entry.get("link") or "").strip() or None
    title = html_to_text(entry.get("title", "") or "")
    text = entry_text(entry) or title  # a headline-only item still carries its headline
    if not text:
        return None
    meta: dict[str, Any] = {"feed_url": feed_url}
    if entry.get("id"):
        meta["guid"] = entry["id"]
    if entry.get("author"):
        meta["author"] = entry["author"]
    tags = [t.get("term") for t in entry.get("tags", []) or [] if t.get("term")]
    if tags:
        meta["tags"] = tags[:20]
    published = _rfc3339(entry.get("published_parsed")) or _rfc3339(entry.get("updated_parsed"))
    return Article.create(text, url=link, title=title, feed=feed_id, published_at=published, lang=lang, meta=meta)


class RssFeed(BaseFeed):
    """RSS/Atom over HTTP (see the module docstring for options)."""

    default_interval = 300.0

    def __init__(self, id: str, options: Mapping[str, Any], context: FeedContext | None = None) -> None:
        super().__init__(id, options, context)
        self.url: str = self.opts.get("url", str)
        if not self.url.startswith(("http://", "https://")):
            raise FeedConfigError(f"feed {id!r}: option 'url' must be an http(s) URL, not {self.url!r}")
        self.timeout = self.opts.number("timeout", 20.0, minimum=0.1)
        self.max_bytes = self.opts.integer("max_bytes", 10_000_000, minimum=1024)
        self.max_items = self.opts.integer("max_items", 50, minimum=1)
        self.full_text: bool = self.opts.get("full_text", bool, False)
        self.full_text_timeout = self.opts.number("full_text_timeout", 15.0, minimum=0.1)
        self.full_text_max_bytes = self.opts.integer("full_text_max_bytes", 5_000_000, minimum=1024)
        self.full_text_per_host = self.opts.integer("full_text_per_host", 2, minimum=1)
        self.lang: str | None = self.opts.get("lang", str, None)

    async def fetch(self) -> tuple[bytes | None, dict[str, str]]:
        """GET the feed (conditional); ``(None, headers)`` on 304. Raises :class:`FeedError`."""
        import aiohttp

        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        etag, modified = self.state_get("etag"), self.state_get("last_modified")
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with self.context.http().get(self.url, headers=headers, timeout=timeout) as response:
                got = {k.lower(): v for k, v in response.headers.items()}
                if response.status == 304:
                    return None, got
                if response.status != 200:
                    raise FeedError(f"HTTP {response.status} {response.reason or ''}".strip())
                return await read_capped(response, self.max_bytes), got
        except FetchTooLarge as exc:
            raise FeedError(str(exc)) from None
        except TimeoutError:
            raise FeedError(f"timeout after {self.timeout:g}s") from None
        except aiohttp.ClientError as exc:
            raise FeedError(f"{type(exc).__name__}: {exc}"[:300]) from None

    async def parse(self, body: bytes, headers: Mapping[str, str]) -> Any:
        """feedparser on the raw bytes + HTTP headers, so it picks the declared encoding itself."""
        import feedparser

        response_headers = {k: v for k, v in headers.items() if k in ("content-type", "content-language")}
        response_headers["content-location"] = self.url  # resolves relative links
        parsed = await asyncio.to_thread(feedparser.parse, io.BytesIO(body), response_headers=response_headers)
        if parsed.get("bozo") and not parsed.entries:
            raise FeedError(f"malformed feed: {parsed.get('bozo_exception')}"[:300])
        return parsed

    async def articles(self) -> AsyncIterator[Article | RawRecord]:
        body, headers = await self.fetch()
        notes = self.health().notes
        if body is None:
            notes["not_modified"] = notes.get("not_modified", 0) + 1
            return
        parsed = await self.parse(body, headers)
        if parsed.get("bozo"):
            notes["last_warning"] = f"feed parsed with problems: {parsed.get('bozo_exception')}"[:300]
        lang = parsed.feed.get("language") or headers.get("content-language") or self.lang
        notes["encoding"] = parsed.get("encoding")
        entries = parsed.entries[: self.max_items]
        found = [entry_article(e, feed_id=self.id, feed_url=self.url, lang=lang) for e in entries]
        articles = [a for a in found if a is not None]
        if self.full_text:
            # Pages are fetched concurrently; the fetcher's per-host semaphore keeps it polite.
            articles = list(await asyncio.gather(*(self.with_full_text(a) for a in articles)))
        for article in articles:
            yield article
        # Reached only when every article above was delivered: now the next poll may skip them.
        self.state_set("etag", headers.get("etag"))
        self.state_set("last_modified", headers.get("last-modified"))

    async def with_full_text(self, article: Article) -> Article:
        """The article with its page's text, or unchanged with ``meta.full_text = "failed: …"``. Pages of
        items already seen are not fetched again."""
        if not article.url or self.context.state.seen(self.id, article_id(article.url, None, "")):
            return article
        fetcher = self.context.fulltext(self.full_text_per_host)
        result = await fetcher.fetch(article.url, timeout=self.full_text_timeout, max_bytes=self.full_text_max_bytes)
        article.meta["full_text"] = result.status
        if result.text:
            article.meta["summary"] = article.text[:2000]
            article.text = result.text
        return article
