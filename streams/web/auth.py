"""Access to the dashboard, its APIs and ``/metrics`` when ``WIREWATCH_API_TOKEN`` is set.

A client shows the token as ``Authorization: Bearer TOKEN``; a browser signs in once at ``/login`` and
gets an HttpOnly cookie holding an HMAC of the token (not the token itself), so the cookie is useless
anywhere else and changing the token signs every browser out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

COOKIE = "wirewatch_session"


def session_value(token: str) -> str:
    """The cookie value for ``token`` (stable, so every worker with the same token accepts it)."""
    return hmac.new(token.encode("utf-8"), b"wirewatch-dashboard-session/v1", hashlib.sha256).hexdigest()


def bearer_of(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def is_authorized(token: str | None, headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
    """True when no token is configured, or the request shows it (bearer header or session cookie)."""
    if not token:
        return True
    shown = bearer_of(headers)
    if shown is not None and hmac.compare_digest(shown.encode("utf-8"), token.encode("utf-8")):
        return True
    cookie = cookies.get(COOKIE)
    return cookie is not None and hmac.compare_digest(cookie, session_value(token))


def token_matches(token: str, candidate: str) -> bool:
    return hmac.compare_digest(candidate.encode("utf-8"), token.encode("utf-8"))
