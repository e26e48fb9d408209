"""Subscriptions on the worker's web server, behind its one gate (``streams/web/server.py``):

* ``GET /api/subscriptions`` (the stored list, with this worker's delivery status),
  ``POST /api/subscriptions`` (create; 409 if the id exists), ``GET|PUT|DELETE /api/subscriptions/{id}``.
  A subscription that fails the checks is refused with 400 and ``{"error", "field"}``, never stored. Answers
  show credentials redacted (``Subscription.to_dict(secrets=False)``): the API never gives one back.
* ``GET /feeds/alerts.atom`` (every alert) and ``GET /feeds/{id}.atom`` (a subscription's): Atom 1.0 built
  with ``feedgen``, one entry per incident (its id stable, ``updated`` moved and the title rewritten
  when the incident escalates), from the recent alerts the dashboard keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from feedgen.feed import FeedGenerator

from ..records import parse_rfc3339
from ..sinks import message
from ..subscriptions.model import Filter, SubscriptionError, parse_subscription
from ..subscriptions.router import SubscriptionRouter, level
from ..subscriptions.store import SubscriptionStore
from .server import Route, add_routes, json_response

#: Largest subscription body the API reads.
MAX_BODY = 64 * 1024
_TAG = "tag:wirewatch,2026:"


def atom_feed(
    alerts: Iterable[Mapping[str, Any]], feed_id: str, title: str, self_url: str, keep: Filter | None = None
) -> bytes:
    """An Atom document: one entry per incident of ``alerts`` (newest first) that ``keep`` accepts; the
    entry shows the incident's highest escalation level seen, and its ``updated`` is that report's time."""
    latest: dict[str, Mapping[str, Any]] = {}
    for alert in alerts:
        if keep is not None and not keep.matches(alert):
            continue
        incident = str(alert.get("incident_id") or alert.get("alert_id"))
        current = latest.get(incident)
        if current is None or level(alert) > level(current):
            latest[incident] = alert
    feed = FeedGenerator()
    feed.id(_TAG + feed_id)
    feed.title(title)
    feed.link(href=self_url, rel="self")
    feed.author({"name": "wirewatch"})
    feed.generator("wirewatch")

    def when(alert: Mapping[str, Any]) -> datetime:
        return parse_rfc3339(alert.get("detected_at")) or datetime.fromtimestamp(0, UTC)

    feed.updated(max((when(a) for a in latest.values()), default=datetime.now(UTC)))
    for incident, alert in sorted(latest.items(), key=lambda kv: when(kv[1])):
        entry = feed.add_entry()  # feedgen puts later entries first
        entry.id(_TAG + "incident:" + incident)
        entry.title(message.subject(alert))
        entry.updated(when(alert))
        if alert.get("url"):
            entry.link(href=str(alert["url"]))
        entry.content(message.text([alert]), type="text")  # Atom needs content or a link; not every article has a URL
        entry.category(term=str(alert.get("severity")))
    return feed.atom_str(pretty=True)


def _refused(exc: SubscriptionError) -> web.Response:
    return json_response({"error": str(exc), "field": exc.field}, 400)


async def _body(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=len(raw))
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SubscriptionError("body", f"not JSON: {exc}") from None


def build_routes(
    router: SubscriptionRouter, store: SubscriptionStore, recent_alerts: Callable[[], Iterable[Mapping[str, Any]]]
) -> list[Route]:
    async def stored() -> dict[str, Any]:
        subs = await store.read_all()
        router.replace(subs.values())  # this worker applies the change at once; others on their next read
        return subs

    async def list_subscriptions(request: web.Request) -> web.Response:
        subs = await stored()
        status = {row["id"]: row for row in router.rows()}
        return json_response(
            {"subscriptions": [{**s.to_dict(secrets=False), "status": status.get(s.id)} for s in subs.values()]}
        )

    async def get_subscription(request: web.Request) -> web.Response:
        sub = (await stored()).get(request.match_info["id"])
        if sub is None:
            return json_response({"error": f"no subscription {request.match_info['id']!r}"}, 404)
        return json_response(sub.to_dict(secrets=False))

    async def create(request: web.Request) -> web.Response:
        try:
            sub = parse_subscription(await _body(request))
        except SubscriptionError as exc:
            return _refused(exc)
        if sub.id in await store.read_all():
            return json_response(
                {"error": f"subscription {sub.id!r} exists: PUT /api/subscriptions/{sub.id}", "field": "id"}, 409
            )
        await store.write([sub])
        await stored()
        return json_response(sub.to_dict(secrets=False), 201)

    async def put(request: web.Request) -> web.Response:
        try:
            sub = parse_subscription(await _body(request), request.match_info["id"])
        except SubscriptionError as exc:
            return _refused(exc)
        await store.write([sub])
        await stored()
        return json_response(sub.to_dict(secrets=False))

    async def delete(request: web.Request) -> web.Response:
        sid = request.match_info["id"]
        if sid not in await store.read_all():
            return json_response({"error": f"no subscription {sid!r}"}, 404)
        await store.write(deletes=[sid])
        await stored()
        return web.Response(status=204)

    async def all_alerts_feed(request: web.Request) -> web.Response:
        body = atom_feed(recent_alerts(), "alerts", "wirewatch: all alerts", str(request.url))
        return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")

    async def subscription_feed(request: web.Request) -> web.Response:
        sid = request.match_info["id"]
        sub = router.subscriptions.get(sid) or (await stored()).get(sid)
        if sub is None:
            raise web.HTTPNotFound(text=f"no subscription {sid!r}")
        title = f"wirewatch: {sub.owner or sub.id}"
        body = atom_feed(recent_alerts(), "subscription:" + sid, title, str(request.url), sub.filter)
        return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")

    return [
        ("GET", "/api/subscriptions", list_subscriptions),
        ("POST", "/api/subscriptions", create),
        ("GET", "/api/subscriptions/{id}", get_subscription),
        ("PUT", "/api/subscriptions/{id}", put),
        ("DELETE", "/api/subscriptions/{id}", delete),
        ("GET", "/feeds/alerts.atom", all_alerts_feed),
        ("GET", "/feeds/{id}.atom", subscription_feed),
    ]


def register_subscription_routes(
    app: Any, router: SubscriptionRouter, store: SubscriptionStore, dashboard: Any
) -> None:
    """Add the routes to the worker's web server (behind its gate) and the per-subscription rows to the
    dashboard's status."""
    add_routes(app.web.web_app.router, build_routes(router, store, lambda: list(dashboard.alerts)))
    dashboard.panels["subscriptions"] = router.rows
