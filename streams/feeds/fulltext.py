"""Full-text fetch of an item's link: bounded download, trafilatura extraction, politeness per host."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


class FetchTooLarge(Exception):
    pass


async def read_capped(response: Any, max_bytes: int) -> bytes:
    """The body of an aiohttp response, refusing more than ``max_bytes`` (checked while streaming, so a
    huge body never sits in memory)."""
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise FetchTooLarge(f"body of {declared} bytes exceeds the {max_bytes}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_bytes:
            raise FetchTooLarge(f"body exceeds the {max_bytes}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class FullText:
    """The extracted text, or ``None`` with the reason it failed."""

    text: str | None
    status: str  # "ok" or "failed: <why>"


def extract_text(html: str | bytes, url: str | None = None) -> str | None:
    """Main text of an article page with trafilatura (no comments, tables kept), or None."""
    import trafilatura

    return trafilatura.extract(
        html, url=url, include_comments=False, include_tables=True, favor_precision=True
    )


class FullTextFetcher:
    """Fetches article pages with at most ``per_host`` concurrent requests per host (shared by all
    feeds of a runner), then extracts their text in a thread (trafilatura is CPU-bound)."""

    def __init__(self, session: Callable[[], Any], per_host: int = 2) -> None:
        self._session = session
        self.per_host = max(1, per_host)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    def _limit(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.per_host)
        return self._hosts[host]

    async def fetch(self, url: str, *, timeout: float = 15.0, max_bytes: int = 5_000_000) -> FullText:
        import aiohttp

        try:
            async with self._limit(url):
                client_timeout = aiohttp.ClientTimeout(total=timeout)
                async with self._session().get(url, timeout=client_timeout) as response:
                    if response.status != 200:
                        return FullText(None, f"failed: HTTP {response.status}")
                    kind = response.headers.get("Content-Type", "")
                    if kind and "html" not in kind and "xml" not in kind:
                        return FullText(None, f"failed: not HTML ({kind.split(';')[0]})")
                    body = await read_capped(response, max_bytes)
        except FetchTooLarge as exc:
            return FullText(None, f"failed: {exc}")
        except TimeoutError:
            return FullText(None, f"failed: timeout after {timeout:g}s")
        except aiohttp.ClientError as exc:
            return FullText(None, f"failed: {type(exc).__name__}: {exc}"[:300])
        try:
            # Bytes, not str: trafilatura/lxml honour the page's own charset declaration.
            text = await asyncio.to_thread(extract_text, body, url)
        except Exception as exc:  # a parser crash on one page must not fail the poll
            log.debug("extraction of %s failed", url, exc_info=True)
            return FullText(None, f"failed: extraction error {type(exc).__name__}")
        if not text or not text.strip():
            return FullText(None, "failed: no article text found")
        return FullText(text.strip(), "ok")
