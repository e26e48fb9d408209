"""The dashboard every worker serves at ``/``, its JSON APIs and the alert stream (server-sent events).

What each worker keeps (all bounded, all cheap):

* the last alerts and dead letters, read from ``news.alerts`` and ``news.deadletter`` by one plain
  aiokafka consumer **without a group**: it is assigned every partition, so each worker's dashboard sees
  every alert whichever worker raised it, it commits nothing and never joins the app's consumer group
  (a Faust agent would share the group and see only its own partitions, and would rebalance the
  pipeline whenever a dashboard started);
* lag snapshots taken every few seconds from the broker (:mod:`..lag`), whose end offsets also give the
  per-topic throughput (records written per minute, whoever wrote them);
* processing-time percentiles and feed health from this worker (:mod:`..metrics`, the feed runner).

Every text that comes from an article is rendered by ``static/app.js`` with ``textContent`` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from .. import metrics
from ..lag import LagReader, LagSnapshot, parse_groups
from . import auth
from .server import Route, add_routes, json_response, secure_server

if TYPE_CHECKING:
    from ..pipeline import Pipeline

log = logging.getLogger(__name__)

STATIC_FILES = {"app.js": "application/javascript", "style.css": "text/css", "index.html": "text/html"}
#: Bidirectional controls (embeddings, overrides, isolates, marks): article text could use them to make
#: what the page shows read differently from what it says ("Trojan Source"); they are dropped for display.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# ---- pure helpers (unit-tested) --------------------------------------------------------------------------
def shown(value: Any) -> Any:
    """A text from an article as the dashboard shows it: without bidirectional controls."""
    return _BIDI_CONTROLS.sub("", value) if isinstance(value, str) else value


def link_of(url: Any) -> str | None:
    """An article's URL as a link, only when absolute http(s) with a host: a relative URL would resolve
    to the worker's own origin, and other schemes (javascript:) must not become clickable."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def alert_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an Alert the dashboard shows, as the record has them (``evidence``: its ``{text, start,
    end}`` objects), with bidirectional controls dropped from the texts."""
    evidence = record.get("evidence") or []
    details = record.get("details") or {}
    return {
        "alert_id": record.get("alert_id"),
        "incident_id": record.get("incident_id"),
        "severity": record.get("severity"),
        "confidence": record.get("confidence"),
        "kind": record.get("kind"),
        "modality": record.get("modality"),
        "actor": shown(record.get("actor")),
        "speaker": shown(record.get("speaker")),
        "evidence": [{**e, "text": shown(e.get("text"))} for e in evidence if isinstance(e, Mapping)],
        "title": shown(record.get("title") or ""),
        "url": link_of(record.get("url")),
        "feed": shown(record.get("feed")),
        "details": {str(k): shown(v) for k, v in details.items()} if isinstance(details, Mapping) else {},
        "detected_at": record.get("detected_at"),
        "ingest_to_alert_ms": record.get("ingest_to_alert_ms"),
    }


def dead_letter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """A dead letter without its original bytes (those stay on the topic)."""
    return {
        "stage": record.get("stage"),
        "reason": record.get("reason"),
        "error": shown(str(record.get("error") or "")[:300]),
        "article_id": shown(record.get("article_id")),
        "topic": record.get("topic"),
        "partition": record.get("partition"),
        "offset": record.get("offset"),
        "time": record.get("time"),
    }


def throughput(
    samples: Iterable[tuple[float, Mapping[str, int]]], now: float, windows: Iterable[float] = (60.0, 300.0)
) -> dict[str, dict[str, float | int | None]]:
    """Records per minute per topic over each window, from (time, {topic: total end offset}) samples.

    The rate over a window uses the oldest sample inside it and the newest sample; None when fewer
    than two samples fall in the window.
    """
    ordered = sorted(samples, key=lambda s: s[0])
    if not ordered:
        return {}
    latest_t, latest = ordered[-1]
    out: dict[str, dict[str, float | int | None]] = {t: {"total": n} for t, n in latest.items()}
    for window in windows:
        base = next(((t, v) for t, v in ordered if t >= now - window), None)
        key = f"per_min_{round(window / 60)}m"
        for topic, total in latest.items():
            rate = None
            if base is not None and latest_t > base[0] and topic in base[1]:
                rate = round(max(0, total - base[1][topic]) * 60.0 / (latest_t - base[0]), 2)
            out[topic][key] = rate
    return out


def sse_event(data: Any, event: str | None = None, event_id: str | None = None) -> bytes:
    """One server-sent event; the JSON is one line (orjson escapes newlines inside strings)."""
    lines = []
    if event_id:
        lines.append(f"id: {event_id.replace(chr(10), ' ').replace(chr(13), ' ')}")
    if event:
        lines.append(f"event: {event}")
    lines.append("data: " + orjson.dumps(data).decode("utf-8"))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


# ---- the state one worker keeps --------------------------------------------------------------------------
class Dashboard:
    """Live state behind the dashboard of one worker; background loops fill it, handlers read it."""

    def __init__(
        self,
        pipeline: Pipeline,
        token: str | None = None,
        *,
        lag_groups: Iterable[str] = (),
        lag_interval: float = 5.0,
        keep_alerts: int = 200,
        keep_dead_letters: int = 25,
        throughput_window: float = 900.0,
        feeds: Any = None,
    ) -> None:
        self.pipeline = pipeline
        self.token = token or None
        self.lag_groups = list(lag_groups)
        self.lag_interval = lag_interval
        self.keep_alerts = keep_alerts
        self.alerts: deque[dict[str, Any]] = deque(maxlen=keep_alerts)  # newest first
        self._alert_ids: set[str] = set()
        self.dead_letters: deque[dict[str, Any]] = deque(maxlen=keep_dead_letters)  # newest first
        self.samples: deque[tuple[float, dict[str, int]]] = deque(
            maxlen=int(throughput_window / max(lag_interval, 0.5)) + 2
        )
        self.lag: LagSnapshot | None = None
        self.lag_error: str | None = None
        self.tail_error: str | None = None
        self.feeds = feeds
        self.started_at = time.time()
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        #: More sections of /api/status, each filled by its function (e.g. "subscriptions").
        self.panels: dict[str, Callable[[], Any]] = {}
        # Feed errors are read from the runner's live counters at scrape time, whenever it is attached.
        metrics.watch_feeds(self._runner_health)

    # -- alerts and dead letters
    def add_alert(self, record: Mapping[str, Any]) -> bool:
        """Keep an alert (newest first) and push it to the live streams; a repeat alert_id is ignored."""
        view = alert_view(record)
        alert_id = str(view.get("alert_id") or "")
        if not alert_id or alert_id in self._alert_ids:
            return False
        if len(self.alerts) == self.alerts.maxlen:
            self._alert_ids.discard(str(self.alerts[-1].get("alert_id")))
        self.alerts.appendleft(view)
        self._alert_ids.add(alert_id)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(view)
            except asyncio.QueueFull:  # a client that does not read: drop it, the browser reconnects
                self._subscribers.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)
        return True

    def add_dead_letter(self, record: Mapping[str, Any]) -> None:
        self.dead_letters.appendleft(dead_letter_view(record))

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=256)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._subscribers.discard(queue)

    def close_streams(self) -> None:
        """End every open alert stream (worker shutdown must not wait for browsers)."""
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        self._subscribers.clear()

    # -- lag and throughput
    def record_lag(self, snapshot: LagSnapshot) -> None:
        self.lag = snapshot
        self.lag_error = None
        self.samples.append((snapshot.taken_at, snapshot.topic_totals()))
        metrics.set_lag(snapshot.rows)

    # -- feeds
    def attach_feeds(self, runner: Any) -> None:
        """Show ``runner.health()`` on the page and in ``wirewatch_feed_errors`` (``pipeline.feed_runner``
        is picked up without this)."""
        self.feeds = runner

    def _runner_health(self) -> Any:
        runner = self.feed_runner()
        return runner.health() if runner is not None and hasattr(runner, "health") else None

    def feed_runner(self) -> Any:
        pipeline = self.pipeline
        return self.feeds or getattr(pipeline, "feed_runner", None) or getattr(pipeline, "feeds", None)

    def feed_health(self) -> dict[str, Any]:
        runner = self.feed_runner()
        if runner is None or not hasattr(runner, "health"):
            return {"configured": False, "feeds": []}
        try:
            feeds = metrics.feed_health_dicts(runner.health())
        except Exception as exc:  # the dashboard must render even when a runner misbehaves
            return {"configured": True, "feeds": [], "error": f"{type(exc).__name__}: {exc}"}
        return {"configured": bool(feeds), "feeds": [{"id": k, **v} for k, v in sorted(feeds.items())]}

    # -- snapshots for the APIs
    def lag_status(self) -> dict[str, Any]:
        snap = self.lag
        rows = [r.to_dict() for r in snap.rows] if snap else []
        return {
            "taken_at": snap.taken_at if snap else None,
            "interval_s": self.lag_interval,
            "groups": list(dict.fromkeys([self.pipeline.settings.app_id, *self.lag_groups])),
            "rows": rows,
            "total": sum(r["lag"] for r in rows),
            "error": self.lag_error,
        }

    def status(self) -> dict[str, Any]:
        settings = self.pipeline.settings
        now = time.time()
        rates = throughput(self.samples, now)
        deadletter_topic = self.pipeline.deadletter.get_topic_name()
        return {
            "worker": {
                "app_id": settings.app_id,
                "broker": ",".join(settings.bootstrap_servers),
                "topic_prefix": settings.topic_prefix,
                "pid": os.getpid(),
                "uptime_s": round(now - self.started_at, 1),
                "assigned": self.assigned(),
                # Rebalance state: a worker that keeps rebalancing processes nothing.
                "rebalancing": bool(getattr(self.pipeline.app, "rebalancing", False)),
                "rebalances": int(getattr(self.pipeline.app, "rebalancing_count", 0) or 0),
            },
            "throughput": {"topics": [{"topic": t, **v} for t, v in sorted(rates.items())]},
            "lag": self.lag_status(),
            "deadletters": {
                "retained": self.lag.retained(deadletter_topic) if self.lag else None,
                "recent": list(self.dead_letters),
                "error": self.tail_error,
            },
            "feeds": self.feed_health(),
            "processing": metrics.stage_percentiles(),
            "alerts": {"count": len(self.alerts)},
            "time": now,
            **{name: panel() for name, panel in self.panels.items()},
        }

    def assigned(self) -> list[dict[str, Any]]:
        """The partitions this worker's consumer owns right now (which worker does what)."""
        try:
            tps = self.pipeline.app.consumer.assignment()
        except Exception:
            return []
        return [{"topic": tp.topic, "partition": tp.partition} for tp in sorted(tps)]

    # -- background loops (Faust tasks)
    async def lag_loop(self) -> None:
        """Poll lag every ``lag_interval`` s with one long-lived reader; errors are shown, then retried."""
        settings = self.pipeline.settings
        reader: LagReader | None = None
        try:
            while True:
                try:
                    if reader is None:
                        reader = await LagReader(settings, groups=self.lag_groups).start()
                    self.record_lag(await reader.read())
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.lag_error = f"{type(exc).__name__}: {exc}"
                    log.warning("lag poll failed: %s", self.lag_error)
                    if reader is not None:
                        await reader.stop()
                    reader = None
                await asyncio.sleep(self.lag_interval)
        finally:
            if reader is not None:
                await reader.stop()

    async def tail_loop(self) -> None:
        """Follow news.alerts and news.deadletter (all partitions, no group), starting with the last few."""
        while True:
            try:
                await self._tail()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.tail_error = f"{type(exc).__name__}: {exc}"
                log.warning("dashboard tail failed, retrying: %s", self.tail_error)
                await asyncio.sleep(5.0)

    async def _tail(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        settings = self.pipeline.settings
        alerts_topic = self.pipeline.alerts.get_topic_name()
        dead_topic = self.pipeline.deadletter.get_topic_name()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_bytes=4 * 1024 * 1024,
            **settings.aiokafka_security(),
        )
        await consumer.start()
        try:
            tps: list[TopicPartition] = []
            while not tps:
                await consumer._client.force_metadata_update()
                for topic in (alerts_topic, dead_topic):
                    for p in sorted(consumer._client.cluster.partitions_for_topic(topic) or ()):
                        tps.append(TopicPartition(topic, p))
                if not tps:
                    await asyncio.sleep(2.0)
            consumer.assign(tps)
            # Start a little before the end: the dashboard opens with recent history, not the whole log.
            ends = await consumer.end_offsets(tps)
            starts = await consumer.beginning_offsets(tps)
            for tp in tps:
                keep = self.keep_alerts if tp.topic == alerts_topic else (self.dead_letters.maxlen or 25)
                consumer.seek(tp, max(starts[tp], ends[tp] - keep))
            self.tail_error = None
            while True:
                batch = await consumer.getmany(timeout_ms=1000, max_records=500)
                records = [m for messages in batch.values() for m in messages]
                records.sort(key=lambda m: m.timestamp)  # partitions interleave by time, oldest first
                for message in records:
                    try:
                        value = orjson.loads(message.value)
                    except (orjson.JSONDecodeError, TypeError):
                        continue
                    if not isinstance(value, dict):
                        continue
                    if message.topic == alerts_topic:
                        self.add_alert(value)
                    else:
                        self.add_dead_letter(value)
        finally:
            await consumer.stop()


# ---- HTTP ---------------------------------------------------------------------------------------------
def _static(name: str) -> bytes:
    return (resources.files("wirewatch.streams") / "web" / "static" / name).read_bytes()


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wirewatch: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/style.css"></head>
<body class="login"><form method="post" action="/login" class="card">
<h1>wirewatch</h1><p>{message}</p>
<label>API token <input type="password" name="token" autocomplete="current-password" autofocus></label>
<button type="submit">Sign in</button></form></body></html>
"""


def build_routes(dashboard: Dashboard, gate: auth.Gate, read_timeout: float = 30.0) -> list[Route]:
    """(method, path, handler) of the dashboard; ``/`` first (see :func:`register_dashboard`). Access is
    checked by the server's gate (:mod:`.server`) before any of these run."""
    token = gate.token
    static = {name: _static(name) for name in STATIC_FILES}

    def login_page(message: str, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
        return web.Response(
            text=LOGIN_PAGE.format(message=message),
            status=status,
            content_type="text/html",
            headers=headers,
        )

    async def index(request: web.Request) -> web.StreamResponse:
        return web.Response(body=static["index.html"], content_type="text/html", charset="utf-8")

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ("app.js", "style.css"):
            raise web.HTTPNotFound()
        return web.Response(body=static[name], content_type=STATIC_FILES[name], charset="utf-8")

    async def login_form(request: web.Request) -> web.Response:
        if not token:
            raise web.HTTPSeeOther("/")
        return login_page("Sign in with the worker's API token.")

    async def login(request: web.Request) -> web.Response:
        if not token:
            raise web.HTTPSeeOther("/")
        wait = gate.login_limit.attempt(request.remote or "")
        if wait:
            log.warning("sign-in from %s refused: too many attempts", request.remote)
            return login_page("Too many attempts: wait a minute.", 429, {"Retry-After": str(math.ceil(wait))})
        try:
            async with asyncio.timeout(read_timeout):
                form = await request.post()
        except TimeoutError:
            return login_page("The request took too long.", 408)
        candidate = form.get("token")
        if not isinstance(candidate, str) or not auth.token_matches(token, candidate):
            return login_page("Wrong token.", 401)
        response = web.HTTPSeeOther("/")
        response.set_cookie(
            auth.COOKIE,
            gate.sessions.create(),
            httponly=True,
            samesite="Strict",
            path="/",
            secure=request.secure,
            max_age=auth.SESSION_SECONDS,
        )
        raise response

    async def logout(request: web.Request) -> web.Response:
        gate.sessions.revoke(request.cookies.get(auth.COOKIE))
        response = web.HTTPSeeOther("/login" if token else "/")
        response.del_cookie(auth.COOKIE, path="/")
        raise response

    async def api_status(request: web.Request) -> web.Response:
        return json_response(dashboard.status())

    async def api_alerts(request: web.Request) -> web.Response:
        try:
            limit = max(1, min(int(request.query.get("limit", "50")), dashboard.keep_alerts))
        except ValueError:
            limit = 50
        return json_response({"alerts": list(dashboard.alerts)[:limit]})

    async def api_lag(request: web.Request) -> web.Response:
        return json_response(dashboard.lag_status())

    async def api_alert_stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # proxies must not buffer the stream
            }
        )
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        queue = dashboard.subscribe()
        try:
            await response.write(b"retry: 3000\n\n")
            for view in reversed(list(dashboard.alerts)):  # the backlog, oldest first
                await response.write(sse_event(view, "alert", view.get("alert_id")))
            while True:
                try:
                    view = await asyncio.wait_for(queue.get(), timeout=15.0)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if view is None:
                    break
                await response.write(sse_event(view, "alert", view.get("alert_id")))
        except ConnectionResetError:  # the browser went away
            pass
        finally:
            dashboard.unsubscribe(queue)
        return response

    return [
        ("GET", "/", index),
        ("GET", "/static/{name}", asset),
        ("GET", "/login", login_form),
        ("POST", "/login", login),
        ("GET", "/logout", logout),
        ("GET", "/api/status", api_status),
        ("GET", "/api/alerts", api_alerts),
        ("GET", "/api/lag", api_lag),
        ("GET", "/api/alerts/stream", api_alert_stream),
    ]


def register_dashboard(
    pipeline: Pipeline,
    token: str | None = None,
    *,
    lag_groups: Iterable[str] | None = None,
    lag_interval: float | None = None,
    feeds: Any = None,
) -> Dashboard:
    """Serve the dashboard, its APIs and ``/metrics`` from ``pipeline.app``'s web server; start the
    background loops with the worker. Call once, before the worker starts (idempotent per app).

    ``lag_groups`` / ``lag_interval`` default to the settings ``lag_groups`` (WIREWATCH_LAG_GROUPS) and
    ``lag_interval`` (WIREWATCH_LAG_INTERVAL) when those exist. ``feeds`` is a feed runner (anything with
    ``health()``); one built later is attached with ``dashboard.attach_feeds(runner)``.
    """
    app = pipeline.app
    existing = getattr(app, "_wirewatch_dashboard", None)
    if existing is not None:
        return existing
    settings = pipeline.settings
    if lag_groups is None:
        lag_groups = parse_groups(settings.lag_groups)
    if lag_interval is None:
        lag_interval = settings.lag_interval
    dashboard = Dashboard(pipeline, token, lag_groups=lag_groups, lag_interval=lag_interval)
    if feeds is not None:
        dashboard.attach_feeds(feeds)
    gate = auth.Gate(dashboard.token, settings.login_attempts_per_minute)
    secure_server(app, gate, settings.web_read_timeout)
    router = app.web.web_app.router
    # "/" first: Faust mounts its own index at "/" when the web server starts; aiohttp resolves a path to
    # the first resource registered for it, which is this one. GET routes answer HEAD too.
    add_routes(router, build_routes(dashboard, gate, settings.web_read_timeout))
    # No token of its own: the gate above guards /metrics like every other route (bearer or session).
    metrics.register_metrics(pipeline, token=None)

    async def on_shutdown(_: web.Application) -> None:
        dashboard.close_streams()

    async def background(_: web.Application) -> AsyncIterator[None]:
        # Tied to the web server, which Faust starts before the consumer group is joined: lag is
        # visible while a worker waits for its first assignment, which is when it is most useful.
        tasks = [asyncio.ensure_future(dashboard.lag_loop()), asyncio.ensure_future(dashboard.tail_loop())]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    web_app = app.web.web_app
    web_app.on_shutdown.append(on_shutdown)
    web_app.cleanup_ctx.append(background)
    app._wirewatch_dashboard = dashboard  # type: ignore[attr-defined]
    return dashboard
