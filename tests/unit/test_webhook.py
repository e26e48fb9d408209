"""Webhooks against a real HTTP receiver (aiohttp on 127.0.0.1) that checks the signature itself: retries,
permanent statuses, Retry-After, timeouts, filters, concurrency, dead letters and the config errors."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import time
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import orjson
import pytest
from aiohttp import web

from tests.local_http import serve_locally
from tests.readme import readme_block
from wirewatch import __version__
from wirewatch.streams import metrics
from wirewatch.streams.records import DeadLetter, json_schema
from wirewatch.streams.settings import Settings, SettingsError
from wirewatch.streams.sinks import (
    Backoff,
    Webhook,
    WebhookClient,
    WebhookConfigError,
    WebhookDispatcher,
    load_sinks,
    load_webhooks,
    parse_webhooks,
    sign,
    verify,
)
from wirewatch.streams.sinks.webhook import deliver_event, retry_after

SECRET = "s3cret-of-the-desk"
FAST = Backoff(initial=0.01, factor=2.0, maximum=0.05, jitter=0.0)

# Deliberately not orjson's compact form: the receiver must get these bytes, not a re-serialisation.
BODY = (
    b'{"schema": "wirewatch.alert/v1", "alert_id": "a1b2c3d4e5f60718", "incident_id": "inc-1",'
    b' "article_id": "art-1", "kind": "icbm", "modality": "occurred", "actor": "North Korea",'
    b' "severity": "critical", "title": "Launch \\u2014 test", "detected_at": "2026-11-28T10:00:00Z"}'
)


def expected_signature(body: bytes, secret: str = SECRET) -> str:
    # Computed here, independently of wirewatch.streams.sinks.sign, so a wrong signer fails the tests.
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    base: str = ""
    seen: list[Seen] = field(default_factory=list)
    active: int = 0
    peak: int = 0

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


def receiver_app(rec: Receiver) -> web.Application:
    async def hook(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        body = await request.read()
        rec.seen.append(Seen(name, dict(request.headers), body, time.monotonic()))
        n = len(rec.hits(name))
        signed_ok = hmac.compare_digest(request.headers.get("X-Wirewatch-Signature-256", ""), expected_signature(body))
        if name in ("ok", "flaky", "limited", "capped") and not signed_ok:
            return web.Response(status=401, text="bad signature")
        if name == "ok" or name == "unsigned":
            return web.Response(text="thanks")
        if name == "flaky":
            return web.Response(status=500, text="try later") if n <= 2 else web.Response(text="ok")
        if name == "missing":
            return web.Response(status=404, text="no such hook")
        if name == "limited":
            if n == 1:
                return web.Response(status=429, headers={"Retry-After": "0.4"}, text="slow down")
            return web.Response(text="ok")
        if name == "capped":
            if n == 1:
                return web.Response(status=429, headers={"Retry-After": "3600"}, text="slow down")
            return web.Response(text="ok")
        if name == "down":
            return web.Response(status=503, text="boom\nstack trace")
        if name == "slow":
            await asyncio.sleep(2)
            return web.Response(text="late")
        if name == "redirect":
            raise web.HTTPFound(rec.url("ok"))
        if name == "busy":
            rec.active += 1
            rec.peak = max(rec.peak, rec.active)
            try:
                await asyncio.sleep(0.3)
            finally:
                rec.active -= 1
            return web.Response(text="ok")
        return web.Response(status=400)

    app = web.Application()
    app.router.add_post("/{name}", hook)
    return app


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    async with serve_locally(receiver_app(rec)) as rec.base:
        yield rec


@pytest.fixture
async def client() -> AsyncIterator[WebhookClient]:
    client = WebhookClient(backoff=FAST)
    try:
        yield client
    finally:
        await client.aclose()


def hook(rec: Receiver, path: str, **options: Any) -> Webhook:
    options.setdefault("secret", SECRET)
    return Webhook(id=path, url=rec.url(path), **options)


# ---- delivery -------------------------------------------------------------------------------------------
async def test_delivered_with_body_unchanged_and_signed_headers(receiver: Receiver, client: WebhookClient) -> None:
    result = await client.deliver(hook(receiver, "ok"), BODY, "a1b2c3d4e5f60718")
    assert result.ok and result.outcome == "delivered" and result.attempts == 1 and result.status == 200
    (seen,) = receiver.hits("ok")
    assert seen.body == BODY
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["X-Wirewatch-Signature-256"] == expected_signature(BODY)
    assert seen.headers["X-Wirewatch-Delivery"] == "a1b2c3d4e5f60718"
    assert seen.headers["X-Wirewatch-Event"] == "alert"
    assert seen.headers["User-Agent"] == f"wirewatch/{__version__}"


async def test_no_secret_no_signature_header(receiver: Receiver, client: WebhookClient) -> None:
    result = await client.deliver(hook(receiver, "unsigned", secret=None), BODY, "d1")
    assert result.ok
    assert "X-Wirewatch-Signature-256" not in receiver.hits("unsigned")[0].headers


async def test_500_twice_then_200_is_delivered_after_three_attempts(receiver: Receiver, client: WebhookClient) -> None:
    result = await client.deliver(hook(receiver, "flaky", max_attempts=5), BODY, "d-flaky")
    assert result.outcome == "delivered" and result.attempts == 3 and result.status == 200
    attempts = receiver.hits("flaky")
    assert len(attempts) == 3
    # Every retry is the same delivery: same id, same body, same signature (receivers dedupe on the id).
    assert {a.headers["X-Wirewatch-Delivery"] for a in attempts} == {"d-flaky"}
    assert {a.body for a in attempts} == {BODY}
    assert {a.headers["X-Wirewatch-Signature-256"] for a in attempts} == {expected_signature(BODY)}
    # Exponential backoff: 0.01 s then 0.02 s (jitter off).
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.01 and gaps[1] >= 0.02


async def test_404_is_permanent_one_attempt(receiver: Receiver, client: WebhookClient) -> None:
    result = await client.deliver(hook(receiver, "missing", max_attempts=5), BODY, "d")
    assert result.outcome == "rejected" and result.attempts == 1 and result.status == 404
    assert len(receiver.hits("missing")) == 1
    assert result.describe().startswith("missing: HTTP 404 ('no such hook') after 1 attempt (permanent")


async def test_redirect_is_not_followed(receiver: Receiver, client: WebhookClient) -> None:
    result = await client.deliver(hook(receiver, "redirect"), BODY, "d")
    assert result.outcome == "rejected" and result.status == 302
    assert receiver.hits("ok") == []  # the signed body never went to the Location


async def test_429_retry_after_is_honoured(receiver: Receiver) -> None:
    client = WebhookClient(backoff=Backoff(initial=0.01, maximum=1.0, jitter=0.0))
    try:
        result = await client.deliver(hook(receiver, "limited"), BODY, "d")
    finally:
        await client.aclose()
    assert result.outcome == "delivered" and result.attempts == 2
    first, second = receiver.hits("limited")
    # The backoff alone would wait 0.01 s; Retry-After asked for 0.4 s.
    assert second.at - first.at >= 0.38


async def test_429_retry_after_is_capped(receiver: Receiver) -> None:
    client = WebhookClient(backoff=Backoff(initial=0.01, maximum=0.2, jitter=0.0))
    try:
        started = time.monotonic()
        result = await client.deliver(hook(receiver, "capped"), BODY, "d")
    finally:
        await client.aclose()
    assert result.outcome == "delivered" and result.attempts == 2
    assert 0.19 <= time.monotonic() - started < 5  # not the hour the receiver asked for


async def test_always_5xx_fails_after_max_attempts(receiver: Receiver, client: WebhookClient) -> None:
    result = await client.deliver(hook(receiver, "down", max_attempts=3), BODY, "d")
    assert result.outcome == "failed" and result.attempts == 3 and result.status == 503
    assert len(receiver.hits("down")) == 3
    assert result.describe() == "down: HTTP 503 ('boom stack trace') after 3 attempts"


async def test_slow_endpoint_times_out_is_retried_then_fails(receiver: Receiver, client: WebhookClient) -> None:
    started = time.monotonic()
    result = await client.deliver(hook(receiver, "slow", timeout=0.3, max_attempts=2), BODY, "d")
    assert result.outcome == "failed" and result.attempts == 2 and result.status is None
    assert result.error == "timeout (0.3s)"
    assert len(receiver.hits("slow")) == 2
    assert time.monotonic() - started < 1.8  # each attempt was cut at 0.3 s, not the 2 s answer


async def test_connection_refused_is_retried_then_fails(client: WebhookClient) -> None:
    async with serve_locally(web.Application()) as base:
        url = base + "/gone"
    # nothing listens there any more
    result = await client.deliver(Webhook(id="gone", url=url, max_attempts=2), BODY, "d")
    assert result.outcome == "failed" and result.attempts == 2
    assert result.error is not None and result.error.startswith("connection error")


# ---- dispatch: filters, concurrency, metrics, dead letters ------------------------------------------------
async def test_dispatch_sends_to_matching_hooks_concurrently_and_counts(
    receiver: Receiver, client: WebhookClient
) -> None:
    hooks = [
        hook(receiver, "busy", min_severity="high"),
        Webhook(id="busy-2", url=receiver.url("busy"), kinds=("icbm",)),
        Webhook(id="srbm-only", url=receiver.url("busy"), kinds=("srbm",)),
        Webhook(id="down", url=receiver.url("down"), max_attempts=2),
    ]
    dispatcher = WebhookDispatcher(hooks, client)

    def count(webhook: str, outcome: str) -> float:
        value = metrics.REGISTRY.get_sample_value(
            "wirewatch_webhook_deliveries_total", {"webhook": webhook, "outcome": outcome}
        )
        return value or 0.0

    before = count("busy", "delivered"), count("down", "failed")
    alert, results = await dispatcher.dispatch(BODY)
    assert alert["alert_id"] == "a1b2c3d4e5f60718"
    assert {r.webhook: r.outcome for r in results} == {"busy": "delivered", "busy-2": "delivered", "down": "failed"}
    assert len(receiver.hits("busy")) == 2 and receiver.peak == 2  # both at once, not one after the other
    assert {s.headers["X-Wirewatch-Delivery"] for s in receiver.seen} == {"a1b2c3d4e5f60718"}
    assert (count("busy", "delivered"), count("down", "failed")) == (before[0] + 1, before[1] + 1)


def alert(**fields: Any) -> dict[str, Any]:
    base = {
        "kind": "srbm",
        "severity": "medium",
        "actor": "North Korea",
        "modality": "occurred",
        "detected_at": "2026-11-28T10:00:00Z",
    }
    return base | fields


def test_filters() -> None:
    h = Webhook(id="h", url="https://x.test/", kinds=("icbm", "irbm"), min_severity="high")
    assert h.matches(alert(kind="icbm", severity="critical"))
    assert h.matches(alert(kind="irbm", severity="high"))
    assert not h.matches(alert(kind="icbm", severity="medium"))
    assert not h.matches(alert(kind="srbm", severity="critical"))
    by_actor = Webhook(id="a", url="https://x.test/", actors=("north korea",), modalities=("possible",))
    assert by_actor.matches(alert(modality="possible"))
    assert not by_actor.matches(alert(modality="occurred"))
    assert not by_actor.matches(alert(modality="possible", actor="Iran"))
    fresh = Webhook(id="f", url="https://x.test/", max_age=3600)
    now = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
    assert fresh.matches(alert(), now=now)
    assert not fresh.matches(alert(), now=now + timedelta(hours=2))
    assert Webhook(id="all", url="https://x.test/").matches(alert(severity="low"))


async def test_failed_hook_becomes_a_dead_letter_per_hook(receiver: Receiver, client: WebhookClient) -> None:
    """deliver_event (the agent's body) with a recording pipeline: the failing hook, and only it, is
    dead-lettered with the alert's original bytes, key and position."""
    letters: list[Any] = []

    class Pipeline:
        async def dead_letter(self, letter: Any) -> asyncio.Future:
            letters.append(letter)
            done: asyncio.Future = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

    message = SimpleNamespace(value=BODY, key=b"inc-1", topic="news.alerts", partition=1, offset=42)
    dispatcher = WebhookDispatcher(
        [hook(receiver, "ok"), hook(receiver, "down", max_attempts=2), hook(receiver, "missing")], client
    )
    results = await deliver_event(Pipeline(), dispatcher, SimpleNamespace(message=message))  # type: ignore[arg-type]
    assert sorted(r.outcome for r in results) == ["delivered", "failed", "rejected"]
    assert sorted(letter.error.split(":")[0] for letter in letters) == ["down", "missing"]
    down = next(letter for letter in letters if letter.error.startswith("down:"))
    assert (down.stage, down.reason) == ("webhook", "webhook_failed")
    assert down.error.startswith("down: HTTP 503") and "after 2 attempts" in down.error
    assert (down.original, down.original_key, down.offset, down.article_id) == (BODY, b"inc-1", 42, "art-1")

    letters.clear()
    junk = SimpleNamespace(message=SimpleNamespace(value=b"not json", key=None, topic="t", partition=0, offset=1))
    assert await deliver_event(Pipeline(), dispatcher, junk) == []  # type: ignore[arg-type]
    assert [(x.stage, x.reason) for x in letters] == [("webhook", "not_json")]


# ---- pieces ------------------------------------------------------------------------------------------------
def test_backoff_doubles_caps_and_jitters() -> None:
    b = Backoff(initial=0.5, factor=2.0, maximum=30.0, jitter=0.5)
    assert [b.delay(n, rng=lambda: 0.0) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    assert b.delay(3, rng=lambda: 1.0) == 1.0  # full jitter halves the wait at most
    assert 1.0 <= b.delay(3) <= 2.0


def test_retry_after_parsing() -> None:
    assert retry_after("5", cap=30) == 5
    assert retry_after("120", cap=30) == 30
    assert retry_after("-3", cap=30) == 0
    assert retry_after("soon", cap=30) is None
    assert retry_after(None, cap=30) is None
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert retry_after(format_datetime(now + timedelta(seconds=10), usegmt=True), cap=30, now=now) == 10


def test_sign_and_verify() -> None:
    assert sign(SECRET, BODY) == expected_signature(BODY)
    assert verify(SECRET, BODY, expected_signature(BODY))
    assert not verify(SECRET, BODY + b" ", expected_signature(BODY))
    assert not verify("other", BODY, expected_signature(BODY))
    assert not verify(SECRET, BODY, None)
    assert not verify(SECRET, BODY, "sha256=é")  # non-ASCII headers are a mismatch, not a crash


# ---- configuration -----------------------------------------------------------------------------------------
GOOD = """
[[webhook]]
id = "desk"
url = "https://example.org/hooks/wirewatch"
secret_env = "DESK_HOOK_SECRET"
kinds = ["ICBM", "irbm"]
min_severity = "High"
timeout = 10
max_attempts = 5

[[webhook]]
id = "log"
url = "http://127.0.0.1:9000/in"
"""


def test_good_config(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.toml"
    path.write_text(GOOD)
    desk, log = load_webhooks(path, environ={"DESK_HOOK_SECRET": "xyz"})
    assert (desk.id, desk.secret, desk.kinds, desk.min_severity) == ("desk", "xyz", ("icbm", "irbm"), "high")
    assert (desk.timeout, desk.max_attempts) == (10.0, 5)
    assert (log.secret, log.kinds, log.timeout, log.max_attempts) == (None, (), 10.0, 5)
    assert "xyz" not in repr(desk)  # secrets stay out of logs


def table(**options: Any) -> dict[str, Any]:
    return {"webhook": [{"id": "desk", "url": "https://example.org/h"} | options]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (table(urll="https://x"), r"webhook 'desk': unknown option\(s\) 'urll'"),
        ({"webhook": [{"id": "desk"}]}, r"webhook 'desk': option 'url' is required"),
        ({"webhook": [{"url": "https://x.test/"}]}, r"webhook #1: option 'id' is required"),
        (table(url="ftp://example.org/h"), r"webhook 'desk': option 'url' must be an http\(s\) URL"),
        (table(url="example.org/h"), r"webhook 'desk': option 'url' must be an http\(s\) URL"),
        (
            {"webhook": [{"id": "d", "url": "https://a.test/"}, {"id": "d", "url": "https://b.test/"}]},
            r"webhook id 'd' is used twice",
        ),
        (table(min_severity="urgent"), r"webhook 'desk': option 'min_severity' must be one of low, medium, high"),
        (table(kinds=["icbm", "nuke"]), r"webhook 'desk': option 'kinds': unknown value\(s\) 'nuke'"),
        (table(modalities=["rumoured"]), r"webhook 'desk': option 'modalities': unknown value\(s\) 'rumoured'"),
        (table(actors=[1]), r"webhook 'desk': option 'actors' must be a list of strings"),
        (table(timeout=0), r"webhook 'desk': option 'timeout' must be a positive number"),
        (table(timeout=True), r"webhook 'desk': option 'timeout' must be a positive number"),
        (table(max_attempts=2.5), r"webhook 'desk': option 'max_attempts' must be a positive integer"),
        (table(max_attempts=1000), r"webhook 'desk': option 'max_attempts' must be at most 100"),
        (table(secret_env="NOPE_NOT_SET"), r"webhook 'desk': option 'secret_env': environment variable NOPE_NOT_SET"),
        (table(secret="a", secret_env="B"), r"webhook 'desk': give either 'secret' or 'secret_env'"),
        ({"hooks": []}, r"unknown top-level key\(s\) hooks"),
        ({"webhook": []}, r"no \[\[webhook\]\] tables"),
    ],
)
def test_config_errors_name_the_webhook_and_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(WebhookConfigError, match=message):
        parse_webhooks(data, environ={})


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(WebhookConfigError, match="does not exist"):
        load_webhooks(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[webhook]\nid=")
    with pytest.raises(WebhookConfigError, match="not valid TOML"):
        load_webhooks(bad)


def test_the_sink_loader_refuses_a_bad_webhooks_file(tmp_path: Path) -> None:
    # The worker calls load_sinks at start-up; a bad file is a SettingsError like a bad variable.
    path = tmp_path / "webhooks.toml"
    path.write_text('[[webhook]]\nid = "desk"\nurl = "https://example.org/h"\nretries = 3\n')
    settings = Settings.from_env({"WIREWATCH_WEBHOOKS": str(path)})
    with pytest.raises(SettingsError, match=r"webhook 'desk': unknown option\(s\) 'retries'"):
        load_sinks(settings)
    path.write_text('[[webhook]]\nid = "desk"\nurl = "https://example.org/h"\n')
    (dispatcher,) = load_sinks(settings)
    assert [hook.id for hook in dispatcher.hooks] == ["desk"]


# ---- the README ----------------------------------------------------------------------------------------------
def test_readme_config_example_is_valid() -> None:
    hooks = parse_webhooks(tomllib.loads(readme_block("webhooks-toml", "toml")), environ={"DESK_HOOK_SECRET": "x"})
    assert [h.id for h in hooks]


async def test_readme_receiver_snippet_verifies_real_deliveries(
    receiver: Receiver, client: WebhookClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = readme_block("webhook-receiver", "python")
    assert len([line for line in code.splitlines() if line.strip()]) <= 6
    monkeypatch.setenv("DESK_HOOK_SECRET", SECRET)
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    verified = namespace["verified"]
    await client.deliver(hook(receiver, "ok"), BODY, "a1b2c3d4e5f60718")
    (seen,) = receiver.hits("ok")
    assert verified(seen.body, seen.headers["X-Wirewatch-Signature-256"])
    assert not verified(seen.body + b"x", seen.headers["X-Wirewatch-Signature-256"])
    assert not verified(seen.body, None)
    assert orjson.loads(seen.body)["alert_id"] == seen.headers["X-Wirewatch-Delivery"]


def test_webhook_dead_letters_match_the_shipped_schema() -> None:
    """news.deadletter's contract must admit the webhook stage (failed deliveries become dead letters)."""
    letter = DeadLetter(
        stage="webhook",
        reason="webhook_failed",
        error="desk: HTTP 500 after 5 attempts",
        original=BODY,
        original_key=b"inc-1",
        topic="news.alerts",
        partition=0,
        offset=7,
        article_id="art-1",
    )
    jsonschema.validate(letter.to_dict(), json_schema("deadletter"))
