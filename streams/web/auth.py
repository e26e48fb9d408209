"""Access to everything the worker's web server serves when ``WIREWATCH_API_TOKEN`` is set.

A client shows the token as ``Authorization: Bearer TOKEN``; a browser signs in once at ``/login`` and
gets an HttpOnly cookie holding a random session id, new at every sign-in and revoked by ``/logout``.
Sessions live in the worker's memory (bounded): a restart or a new token signs every browser out.

Every comparison here takes any text a client can send (non-ASCII, lone surrogates from undecodable
header bytes) and answers False rather than raising.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping

COOKIE = "wirewatch_session"
#: How long a sign-in lasts, and how many live sessions one worker keeps (the oldest goes first).
SESSION_SECONDS = 7 * 24 * 3600
MAX_SESSIONS = 1000
#: Client addresses the sign-in rate limit remembers (the least recently seen is forgotten first).
MAX_LIMITED_ADDRESSES = 10_000


def _bytes(text: str) -> bytes:
    # surrogatepass: a header byte aiohttp could not decode arrives as a lone surrogate; it must compare
    # unequal, not raise.
    return text.encode("utf-8", "surrogatepass")


def secrets_equal(given: str, expected: str) -> bool:
    """Constant-time comparison of a client-supplied string with a secret; never raises."""
    return hmac.compare_digest(_bytes(given), _bytes(expected))


def bearer_of(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def bearer_matches(token: str, headers: Mapping[str, str]) -> bool:
    shown = bearer_of(headers)
    return shown is not None and secrets_equal(shown, token)


def token_matches(token: str, candidate: str) -> bool:
    return secrets_equal(candidate, token)


class Sessions:
    """Signed-in browsers: random ids (only their SHA-256 is kept) with an expiry, at most ``limit``."""

    def __init__(self, lifetime: float = SESSION_SECONDS, limit: int = MAX_SESSIONS) -> None:
        self.lifetime = lifetime
        self.limit = limit
        self._expiry: OrderedDict[bytes, float] = OrderedDict()  # digest → expiry, oldest first

    @staticmethod
    def _digest(session: str) -> bytes:
        return hashlib.sha256(_bytes(session)).digest()

    def create(self) -> str:
        now = time.monotonic()
        for digest, expiry in list(self._expiry.items()):
            if expiry > now and len(self._expiry) < self.limit:
                break
            del self._expiry[digest]
        session = secrets.token_urlsafe(32)
        self._expiry[self._digest(session)] = now + self.lifetime
        return session

    def valid(self, session: str | None) -> bool:
        if not session:
            return False
        expiry = self._expiry.get(self._digest(session))
        return expiry is not None and expiry > time.monotonic()

    def revoke(self, session: str | None) -> None:
        if session:
            self._expiry.pop(self._digest(session), None)

    def __len__(self) -> int:
        return len(self._expiry)


class LoginLimiter:
    """At most ``per_minute`` sign-in attempts per client address (a token bucket per address); the
    table of addresses is bounded, so a flood of addresses costs memory only up to ``max_addresses``."""

    def __init__(self, per_minute: int, max_addresses: int = MAX_LIMITED_ADDRESSES) -> None:
        self.per_minute = max(1, per_minute)
        self.max_addresses = max_addresses
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # address → (tokens, at)

    def attempt(self, address: str) -> float:
        """0 when the attempt may go ahead (and is counted), else the seconds to wait."""
        now = time.monotonic()
        rate = self.per_minute / 60.0
        tokens, at = self._buckets.pop(address, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - at) * rate)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate
        self._buckets[address] = (tokens - 1.0 if not wait else tokens, now)
        while len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


class Gate:
    """The token, the sessions and the sign-in limit of one worker's web server."""

    def __init__(self, token: str | None, login_per_minute: int = 10) -> None:
        self.token = token or None
        self.sessions = Sessions()
        self.login_limit = LoginLimiter(login_per_minute)

    def allows(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
        """True when no token is configured, or the request shows it (bearer header or live session)."""
        if self.token is None:
            return True
        return bearer_matches(self.token, headers) or self.sessions.valid(cookies.get(COOKIE))


def is_authorized(token: str | None, headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
    """True when no token is configured or the bearer header shows it (sessions need a :class:`Gate`)."""
    return not token or bearer_matches(token, headers)
