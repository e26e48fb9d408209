"""The web server's credentials (sessions, sign-in limit, comparisons that never raise) and what the
dashboard shows of hostile article text (issue 20: defect 7 and the concerns)."""

from __future__ import annotations

import time

import pytest

from wirewatch.streams.web import auth
from wirewatch.streams.web.dashboard import alert_view, dead_letter_view, link_of, shown

TOKEN = "s3cret-token"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer \udcff",  # the byte 0xff as aiohttp decodes it (a lone surrogate)
        "Bearer \ud800",
        "Bearer é" + TOKEN,
        "Bearer " + "x" * 100_000,
    ],
)
def test_a_bearer_header_of_any_text_is_refused_without_raising(header: str) -> None:
    gate = auth.Gate(TOKEN)
    assert not gate.allows({"Authorization": header}, {})
    assert not auth.is_authorized(TOKEN, {"Authorization": header}, {})


@pytest.mark.parametrize("cookie", ["é", "\udcc3\udca9", "\ud800", "x" * 10_000, ""])
def test_a_session_cookie_of_any_text_is_refused_without_raising(cookie: str) -> None:
    assert not auth.Gate(TOKEN).allows({}, {auth.COOKIE: cookie})


def test_no_token_configured_lets_everything_through() -> None:
    assert auth.Gate(None).allows({}, {}) and auth.Gate("").allows({}, {})


def test_each_sign_in_gets_its_own_session_and_sign_out_revokes_it() -> None:
    gate = auth.Gate(TOKEN)
    first, second = gate.sessions.create(), gate.sessions.create()
    assert first != second and TOKEN not in first
    assert gate.allows({}, {auth.COOKIE: first}) and gate.allows({}, {auth.COOKIE: second})
    gate.sessions.revoke(first)
    assert not gate.allows({}, {auth.COOKIE: first})
    assert gate.allows({}, {auth.COOKIE: second})


def test_sessions_expire_and_are_bounded() -> None:
    sessions = auth.Sessions(lifetime=0.05, limit=3)
    old = sessions.create()
    time.sleep(0.1)
    assert not sessions.valid(old)
    live = [auth.Sessions.create(sessions) for _ in range(5)]
    assert len(sessions) == 3  # the expired one and the two oldest live ones were dropped
    assert [sessions.valid(s) for s in live] == [False, False, True, True, True]


def test_sign_in_attempts_are_limited_per_address() -> None:
    limiter = auth.LoginLimiter(per_minute=3)
    assert [limiter.attempt("10.0.0.1") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.attempt("10.0.0.1")
    assert 0 < wait <= 20.0  # one attempt comes back every 20 s
    assert limiter.attempt("10.0.0.2") == 0.0  # another address has its own budget


def test_the_sign_in_limit_remembers_a_bounded_number_of_addresses() -> None:
    limiter = auth.LoginLimiter(per_minute=1, max_addresses=100)
    for n in range(10_000):
        limiter.attempt(f"2001:db8::{n:x}")
    assert len(limiter) == 100
    assert limiter.attempt("2001:db8::270f") > 0  # the most recent address is still remembered


# ---- what the dashboard shows ---------------------------------------------------------------------------
RLO_TITLE = "Missile test \u202eevah sdrawkcab\u202c ends"


def test_bidi_controls_are_dropped_from_every_shown_text() -> None:
    view = alert_view(
        {
            "alert_id": "a1",
            "title": RLO_TITLE,
            "actor": "North\u2066 Korea\u2069",
            "speaker": "\u200fKim",
            "feed": "wire\u202d",
            "evidence": [{"text": "fired \u202eenoD", "start": 4, "end": 15}],
            "details": {"place": "Sea\u061c of Japan", "count": 2},
        }
    )
    assert view["title"] == "Missile test evah sdrawkcab ends"
    assert (view["actor"], view["speaker"], view["feed"]) == ("North Korea", "Kim", "wire")
    assert view["evidence"] == [{"text": "fired enoD", "start": 4, "end": 15}]
    assert view["details"] == {"place": "Sea of Japan", "count": 2}
    assert dead_letter_view({"error": "bad \u202etext", "article_id": "\u2067x"})["error"] == "bad text"
    assert shown(None) is None and shown(3) == 3


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://news.example.org/a?b=1", "https://news.example.org/a?b=1"),
        ("HTTP://news.example.org/", "HTTP://news.example.org/"),
        ("/api/status", None),  # relative: would be a same-origin link into the dashboard
        ("//evil.example/x", None),  # scheme-relative
        ("api/alerts", None),
        ("javascript:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("https:///no-host", None),
        ("http://[::1", None),  # not a URL at all
        (None, None),
        (42, None),
    ],
)
def test_only_absolute_http_links_are_shown_as_links(url: object, link: str | None) -> None:
    assert link_of(url) == link
    assert alert_view({"alert_id": "a", "url": url})["url"] == link
