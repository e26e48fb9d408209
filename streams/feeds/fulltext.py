"""Full-text fetch of an item's link: bounded download, trafilatura extraction, politeness per host.

An item's link comes from the feed, not from the operator: a hostile feed could point it (or a redirect)
at the worker's own network. Unless ``WIREWATCH_FETCH_PRIVATE_ADDRESSES`` allows it, the fetcher's
connections refuse every address that is not public (loopback, private, link-local, shared, reserved,
multicast, and IPv6 forms that embed one of those). The check is made on the address each socket is
about to connect to, after DNS resolution, so it holds for every redirect and for names that resolve to
an internal address.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


class FetchTooLarge(Exception):
    pass


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(host: str) -> bool:
    """True for a globally routable unicast IP address (an IPv6 form that embeds IPv4 is judged by it)."""
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def socket_factory(allowed: Callable[[str], bool]) -> Callable[[Any], socket.socket]:
    """An aiohttp socket factory that opens a socket only toward an address ``allowed`` accepts (it is
    called with the resolved address each connection is about to use)."""

    def open_socket(addr_info: Any) -> socket.socket:
        family, kind, proto, _, sockaddr = addr_info
        if not allowed(str(sockaddr[0])):
            refused = f"refused: {sockaddr[0]} is not a public address (WIREWATCH_FETCH_PRIVATE_ADDRESSES)"
            raise OSError(errno.EACCES, refused)
        return socket.socket(family, kind, proto)

    return open_socket


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

    return trafilatura.extract(html, url=url, include_comments=False, include_tables=True, favor_precision=True)


class FullTextFetcher:
    """Fetches article pages with at most ``per_host`` concurrent requests per host (shared by all
    feeds of a runner), then extracts their text in a thread (trafilatura is CPU-bound). It has its own
    HTTP session, whose connections reach only addresses that ``allowed`` accepts (public ones)."""

    def __init__(
        self,
        per_host: int = 2,
        *,
        allowed: Callable[[str], bool] | None = is_public_address,
        user_agent: str = "wirewatch-feeds/0.1",
    ) -> None:
        self.per_host = max(1, per_host)
        self.allowed = allowed  # None: any address (WIREWATCH_FETCH_PRIVATE_ADDRESSES)
        self.user_agent = user_agent
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._http: Any = None

    def _session(self) -> Any:
        """The fetcher's ``aiohttp.ClientSession`` (created lazily, inside the running loop)."""
        if self._http is None or self._http.closed:
            import aiohttp

            factory = socket_factory(self.allowed) if self.allowed is not None else None
            connector = aiohttp.TCPConnector(socket_factory=factory)
            self._http = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.user_agent}, auto_decompress=True
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None and not self._http.closed:
            await self._http.close()
        self._http = None

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
