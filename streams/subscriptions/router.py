"""Delivery: each alert on ``news.alerts`` to the channels of the subscriptions it matches.

Semantics (README "Subscriptions"):

* ``immediate``: one message per incident version. An incident's version is its escalation level, the
  alert's (modality rank, severity rank): a first report is sent, a later report of the same incident is
  sent only when it raises the level (possible → occurred, a higher severity), and a second outlet repeating
  a report is not sent. The delivery id is a hash of (subscription, channel, incident, modality,
  severity): the same for every repeat of that version, on any worker, after any restart.
* ``digest``: the latest alert of each incident since the last digest, sent every ``every_hours``;
  nothing is sent when there is nothing new.
* Memory: the versions sent and the pending digests are recorded through ``persist`` (the worker writes
  them to ``news.subscriptions.state``, :mod:`.state`, before it acknowledges the alert) and brought back
  by :meth:`SubscriptionRouter.restore` when a worker starts, so a restart neither loses a digest under
  way nor sends another outlet's copy again.
* Each channel is an :class:`~wirewatch.streams.sinks.base.AlertSink`: retries with backoff and the
  outcome's metrics are the sink interface's. A delivery runs in a task of its own, so a channel that
  hangs or fails delays neither the other channels nor the next alerts; the alert's record is
  acknowledged once each of its deliveries got through or was dead-lettered (stage ``subscription``,
  reason ``<channel type>_failed``), so a worker killed before that leaves it to the next owner of the
  partition, which sends it again with the same delivery id (at least once).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from wirewatch.agents.incidents import level as incident_level

from .. import metrics
from ..records import DeadLetter, parse_rfc3339
from ..settings import Settings
from ..sinks.base import AlertSink, DeliveryResult, SinkItem
from ..sinks.chat import ChatSink
from ..sinks.email import EmailSink, SmtpServer
from ..sinks.webhook import Webhook, WebhookSink
from .model import Channel, Subscription

log = logging.getLogger(__name__)

STAGE = "subscription"
#: Incident versions per channel the router remembers (a few MB at most).
MAX_TRACKED = 100_000


def build_sink(settings: Settings, sub: Subscription, index: int) -> AlertSink | None:
    """The sink of channel ``index`` of ``sub`` (None for an Atom channel: readers poll the feed)."""
    channel = sub.channels[index]
    name = sub.channel_id(index)
    common: dict[str, Any] = {"max_attempts": channel.max_attempts}
    if channel.mode == "digest":
        common["batch_size"] = 10_000  # a digest is one message
    if channel.type == "email":
        server = SmtpServer.from_url(
            settings.smtp_url or "smtp://localhost:25",
            require_tls=settings.smtp_require_tls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=settings.smtp_from,
        )
        return EmailSink(
            name,
            server=server,
            to=channel.options["to"],
            subject_prefix=channel.options.get("subject_prefix", ""),
            timeout=channel.timeout,
            **common,
        )
    if channel.type in ("slack", "mattermost"):
        return ChatSink(name, url=channel.options["url"], flavour=channel.type, timeout=channel.timeout, **common)
    if channel.type == "webhook":
        hook = Webhook(
            name,
            channel.options["url"],
            secret=channel.options.get("secret"),
            timeout=channel.timeout,
            max_attempts=channel.max_attempts,
        )
        sink = WebhookSink(hook)
        sink.batch_size = common.get("batch_size", 1)
        return sink
    return None


def level(alert: Mapping[str, Any]) -> tuple[int, int]:
    """An alert's escalation level: (modality rank, severity rank), as its incident's is counted."""
    return incident_level(str(alert.get("modality")), str(alert.get("severity")))


def delivery_id(sub_id: str, index: int, alert: Mapping[str, Any]) -> str:
    """The same for every report of one incident version to one channel (what receivers deduplicate on)."""
    key = "|".join(
        [sub_id, str(index), str(alert.get("incident_id")), str(alert.get("modality")), str(alert.get("severity"))]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass
class SubscriptionStatus:
    """One row of the dashboard: how a subscription's deliveries went on this worker."""

    delivered: int = 0
    failed: int = 0
    last_delivery: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Digest:
    due: float
    items: dict[str, SinkItem] = field(default_factory=dict)  # incident id → latest alert


#: Writes a dead letter for a delivery that finally failed: (subscription channel, item, result).
DeadLetterWriter = Callable[[str, SinkItem, DeliveryResult], Any]
#: Records a change of the delivery memory: (key, JSON value, or None to forget the key).
Persist = Callable[[str, bytes | None], None]


def _no_memory(key: str, value: bytes | None) -> None:
    """The default: nothing outlives the router (tests, ``wirewatch subscriptions test``)."""


def every(sub: Subscription, index: int) -> float:
    """Seconds between two digests of channel ``index``."""
    return sub.channels[index].every_hours * 3600


def level_key(sub_id: str, index: int, incident: str) -> str:
    return f"level/{sub_id}/{index}/{incident}"


def digest_key(sub_id: str, index: int, incident: str) -> str:
    return f"digest/{sub_id}/{index}/{incident}"


def due_key(sub_id: str, index: int) -> str:
    return f"due/{sub_id}/{index}"


class SubscriptionRouter:
    """Matches alerts against the subscriptions and delivers them. Needs no Kafka: :meth:`route` takes a
    decoded alert and returns the deliveries to await; the agent in :mod:`.agent` wires it to the worker."""

    def __init__(
        self,
        settings: Settings,
        subscriptions: Iterable[Subscription] = (),
        sink_factory: Callable[[Settings, Subscription, int], AlertSink | None] = build_sink,
        clock: Callable[[], float] = time.time,
        persist: Persist = _no_memory,
    ) -> None:
        self.settings = settings
        self.sink_factory = sink_factory
        self.clock = clock
        self.persist = persist
        self.subscriptions: dict[str, Subscription] = {}
        self.sinks: dict[tuple[str, int], AlertSink | None] = {}
        #: (subscription, channel, incident) → the highest level delivered or under way; the least recently
        #: touched go first past MAX_TRACKED (a forgotten incident's next report is sent once more).
        self.levels: OrderedDict[tuple[str, int, str], tuple[int, int]] = OrderedDict()
        self.digests: dict[tuple[str, int], _Digest] = {}
        self.status: dict[str, SubscriptionStatus] = {}
        #: Set once the stored list was read (the agent waits for it before routing).
        self.loaded = asyncio.Event()
        self._closing: set[asyncio.Future[None]] = set()  # sinks of changed subscriptions being closed
        self.replace(subscriptions)

    # -- the list
    def replace(self, subscriptions: Iterable[Subscription]) -> None:
        """Use ``subscriptions`` from now on; the sinks of changed or removed ones are rebuilt or closed."""
        new = {sub.id: sub for sub in subscriptions}
        for sub_id, old in list(self.subscriptions.items()):
            if new.get(sub_id) != old:
                for key in [k for k in self.sinks if k[0] == sub_id]:
                    sink = self.sinks.pop(key)
                    if sink is not None and _loop_running():  # outside a loop there is no connection open
                        task = asyncio.ensure_future(sink.aclose())
                        self._closing.add(task)
                        task.add_done_callback(self._closing.discard)
                for key in [k for k in self.digests if k[0] == sub_id]:
                    if sub_id not in new or key[1] >= len(new[sub_id].channels):
                        self._forget_digest(key, self.digests.pop(key))
        self.subscriptions = new

    def restore(self, entries: Mapping[str, bytes]) -> int:
        """Bring back the memory :attr:`persist` recorded (what ``news.subscriptions.state`` holds) for the
        current subscriptions; returns how many entries were used. Call after :meth:`replace`."""
        used = 0
        for key, value in entries.items():
            kind, _, rest = key.partition("/")
            parts = rest.split("/")
            try:
                sub_id, index = parts[0], int(parts[1])
                data = orjson.loads(value)
            except (IndexError, ValueError, orjson.JSONDecodeError):
                log.warning("subscriptions: unreadable delivery memory %r skipped", key)
                continue
            sub = self.subscriptions.get(sub_id)
            if sub is None or index >= len(sub.channels):
                self.persist(key, None)  # the subscription or its channel is gone
                continue
            if kind == "level" and len(parts) == 3:
                self.levels[(sub_id, index, parts[2])] = (int(data[0]), int(data[1]))
            elif kind == "digest" and len(parts) == 3:
                body = str(data["body"]).encode()
                digest = self.digests.setdefault((sub_id, index), _Digest(self.clock() + every(sub, index)))
                digest.items[parts[2]] = SinkItem(body, orjson.loads(body), str(data["delivery_id"]))
            elif kind == "due" and len(parts) == 2:
                self.digests.setdefault((sub_id, index), _Digest(0.0)).due = float(data)
            else:
                log.warning("subscriptions: unknown delivery memory %r skipped", key)
                continue
            used += 1
        while len(self.levels) > MAX_TRACKED:
            self.levels.popitem(last=False)
        return used

    def sink(self, sub: Subscription, index: int) -> AlertSink | None:
        key = (sub.id, index)
        if key not in self.sinks:
            self.sinks[key] = self.sink_factory(self.settings, sub, index)
        return self.sinks[key]

    # -- routing
    def route(self, item: SinkItem) -> list[asyncio.Future[tuple[str, SinkItem, DeliveryResult]]]:
        """Start the immediate deliveries ``item`` calls for (tasks) and add it to the pending digests."""
        alert = item.alert
        incident = str(alert.get("incident_id") or item.delivery_id)
        tasks = []
        for sub in self.subscriptions.values():
            if not sub.filter.matches(alert):
                continue
            for index, channel in enumerate(sub.channels):
                sink = self.sink(sub, index)
                if sink is None:
                    continue
                mine = SinkItem(item.body, alert, delivery_id(sub.id, index, alert))
                if channel.mode == "digest":
                    self._add_to_digest(sub, index, channel, incident, mine)
                    continue
                key = (sub.id, index, incident)
                if key in self.levels and level(alert) <= self.levels[key]:
                    continue  # this version (or a higher one) was sent: another outlet's copy
                # remembered at once (copies routed meanwhile are not sent), recorded once delivered (_deliver)
                self.levels[key] = level(alert)
                self.levels.move_to_end(key)
                if len(self.levels) > MAX_TRACKED:
                    self.persist(level_key(*self.levels.popitem(last=False)[0]), None)
                tasks.append(asyncio.ensure_future(self._deliver(sub, index, sink, [mine])))
        return tasks

    def _digest(self, sub_id: str, index: int, channel: Channel) -> _Digest:
        digest = self.digests.get((sub_id, index))
        if digest is None:
            digest = self.digests[(sub_id, index)] = _Digest(self.clock() + channel.every_hours * 3600)
            self.persist(due_key(sub_id, index), orjson.dumps(digest.due))
        return digest

    def _add_to_digest(self, sub: Subscription, index: int, channel: Channel, incident: str, item: SinkItem) -> None:
        digest = self._digest(sub.id, index, channel)
        current = digest.items.get(incident)
        if current is None or level(item.alert) >= level(current.alert):
            digest.items[incident] = item
            self.persist(
                digest_key(sub.id, index, incident),
                orjson.dumps({"delivery_id": item.delivery_id, "body": item.body.decode("utf-8", "replace")}),
            )

    def _forget_digest(self, key: tuple[str, int], digest: _Digest, keep: Iterable[str] = ()) -> None:
        """Forget a sent (or dropped) digest's items, except ``keep`` (incidents already in the next one)."""
        kept = set(keep)
        for incident in digest.items:
            if incident not in kept:
                self.persist(digest_key(key[0], key[1], incident), None)

    async def flush_digests(self, dead_letter: DeadLetterWriter | None = None, force: bool = False) -> int:
        """Send every digest that is due (all with ``force``); an empty one sends nothing. Returns how
        many were sent."""
        now = self.clock()
        due = [(key, d) for key, d in self.digests.items() if d.items and (force or d.due <= now)]
        for key, digest in due:
            sub = self.subscriptions.get(key[0])
            self.digests[key] = _Digest(now + sub.channels[key[1]].every_hours * 3600) if sub else _Digest(now)
            self.persist(due_key(*key), orjson.dumps(self.digests[key].due))
            sink = self.sink(sub, key[1]) if sub else None
            if sub is not None and sink is not None:
                items = list(digest.items.values())
                _, _, result = await self._deliver(sub, key[1], sink, items)
                if not result.ok and dead_letter is not None:
                    for item in items:
                        await dead_letter(sub.channel_id(key[1]), item, result)
            # sent or dead-lettered: forgotten, but for incidents that came in meanwhile (the next digest's)
            self._forget_digest(key, digest, keep=self.digests[key].items)
        return len(due)

    async def _deliver(
        self, sub: Subscription, index: int, sink: AlertSink, items: list[SinkItem]
    ) -> tuple[str, SinkItem, DeliveryResult]:
        """One delivery through the sink interface (its retries and backoff), counted and shown."""
        results = await sink.deliver(items)
        result = results[-1] if results else DeliveryResult(sink.id, "delivered", 0)
        channel = sub.channels[index].type
        status = self.status.setdefault(sub.id, SubscriptionStatus())
        now = self.clock()
        detected = parse_rfc3339(items[0].alert.get("detected_at"))
        latency = now - detected.timestamp() if detected is not None else None
        metrics.delivery(channel, result.outcome, latency)
        if result.ok:
            status.delivered += 1
            status.last_delivery = now
            if sub.channels[index].mode == "immediate":
                self.persist(
                    level_key(sub.id, index, str(items[0].alert.get("incident_id"))),
                    orjson.dumps(level(items[0].alert)),
                )
        else:
            status.failed += 1
            status.last_error, status.last_error_at = result.describe(), now
            if sub.channels[index].mode == "immediate":
                # a later report of the incident may try again; this one is dead-lettered
                key = (sub.id, index, str(items[0].alert.get("incident_id")))
                if self.levels.pop(key, None) is not None:
                    self.persist(level_key(*key), None)  # a lower version may have been recorded
        return sub.channel_id(index), items[0], result

    def rows(self) -> list[dict[str, Any]]:
        """The dashboard's rows: one per subscription, with this worker's delivery status."""
        return [
            {
                "id": sub.id,
                "owner": sub.owner,
                "channels": [
                    c.type + (f" (digest {c.every_hours:g}h)" if c.mode == "digest" else "") for c in sub.channels
                ],
                **self.status.get(sub.id, SubscriptionStatus()).to_dict(),
            }
            for sub in sorted(self.subscriptions.values(), key=lambda s: s.id)
        ]

    async def aclose(self) -> None:
        await asyncio.gather(*(s.aclose() for s in self.sinks.values() if s is not None), return_exceptions=True)


#: The alert ``wirewatch subscriptions test`` sends: written for the project, marked as a test in its title.
SAMPLE_ALERT: dict[str, Any] = {
    "schema": "wirewatch.alert/v1",
    "alert_id": "test-alert",
    "incident_id": "test-incident",
    "article_id": "test-article",
    "url": "https://example.org/wirewatch-test",
    "title": "wirewatch test message (not a real alert)",
    "feed": "wirewatch-test",
    "kind": "srbm",
    "modality": "occurred",
    "actor": "Testland",
    "details": {"count": 2, "location": "toward the test range"},
    "severity": "high",
    "confidence": 0.9,
    "evidence": [{"text": "This is a test of a wirewatch subscription; no launch took place.", "start": 0, "end": 64}],
    "speaker": None,
    "detected_at": None,
    "ingest_to_alert_ms": None,
}


async def send_test(settings: Settings, sub: Subscription) -> list[tuple[str, DeliveryResult | None]]:
    """Send :data:`SAMPLE_ALERT` through each channel of ``sub`` (no filter, no deduplication): one
    (channel, result) per channel; None for an Atom channel (nothing is pushed)."""
    alert = {**SAMPLE_ALERT, "detected_at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
    body = orjson.dumps(alert)
    out: list[tuple[str, DeliveryResult | None]] = []
    sinks = [build_sink(settings, sub, index) for index in range(len(sub.channels))]
    try:
        results = await asyncio.gather(
            *(
                sink.deliver([SinkItem(body, alert, "test-" + delivery_id(sub.id, index, alert))])
                for index, sink in enumerate(sinks)
                if sink is not None
            )
        )
        found = iter(results)
        for index, sink in enumerate(sinks):
            out.append((sub.channel_id(index), next(found)[0] if sink is not None else None))
    finally:
        await asyncio.gather(*(s.aclose() for s in sinks if s is not None), return_exceptions=True)
    return out


def digest_dead_letter(topic: str, channel: str, item: SinkItem, result: DeliveryResult) -> DeadLetter:
    """The dead letter of an alert a digest could not deliver (no record position: digests are built
    in memory from alerts already acknowledged)."""
    return DeadLetter(
        stage=STAGE,
        reason=f"{channel.rsplit(':', 1)[-1]}_failed",
        error=f"{channel} (digest): {result.describe()}",
        original=item.body,
        original_key=str(item.alert.get("incident_id") or "").encode() or None,
        topic=topic,
        article_id=item.alert.get("article_id") if isinstance(item.alert.get("article_id"), str) else None,
    )


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
