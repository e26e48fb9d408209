"""Subscriptions without a broker: validation, the query, routing (escalation, other outlets, digests),
the messages, and the Standard Webhooks signature checked with the ``standardwebhooks`` package."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from tests.readme import readme_block
from wirewatch.agents.taxonomy import TAXONOMY
from wirewatch.streams.settings import Settings
from wirewatch.streams.sinks import message
from wirewatch.streams.sinks.base import AlertSink, Backoff, SinkError, SinkItem
from wirewatch.streams.sinks.chat import mattermost_payload, slack_payload
from wirewatch.streams.sinks.email import EmailSink, SmtpServer
from wirewatch.streams.sinks.webhook import Webhook, headers_for
from wirewatch.streams.subscriptions.model import (
    SubscriptionError,
    parse_query,
    parse_subscription,
    parse_subscriptions,
)
from wirewatch.streams.subscriptions.router import SubscriptionRouter, delivery_id


def alert(**changes: Any) -> dict[str, Any]:
    base = {
        "alert_id": "alr-1",
        "incident_id": "inc-1",
        "article_id": "art-1",
        "title": "Missile test feared",
        "feed": "wire-a",
        "kind": "icbm",
        "modality": "possible",
        "actor": "North Korea",
        "details": {"count": 2, "location": "toward the Sea of Japan"},
        "severity": "high",
        "confidence": 0.8,
        "evidence": [{"text": "Officials said an ICBM test may come within weeks."}],
        "detected_at": "2026-11-20T10:00:00Z",
    }
    return {**base, **changes}


def item(record: dict[str, Any]) -> SinkItem:
    return SinkItem(orjson.dumps(record), record, str(record["alert_id"]))


class Collected(AlertSink):
    """A real sink that keeps what it is given (and can be told to fail)."""

    def __init__(self, id: str, fail: bool = False, **common: Any) -> None:
        super().__init__(id, backoff=Backoff(initial=0.001, maximum=0.001), **common)
        self.batches: list[list[SinkItem]] = []
        self.fail = fail

    async def write(self, items: Sequence[SinkItem]) -> int | None:
        if self.fail:
            raise SinkError("down")
        self.batches.append(list(items))
        return 200


def minimal(**fields: Any) -> dict[str, Any]:
    return {"id": "s", "channel": {"type": "atom"}, **fields}


# ---- validation --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "field"),
    [
        (minimal(kinds=["nuke"]), "kinds"),
        (minimal(min_severity="extreme"), "min_severity"),
        (minimal(modalities=["rumoured"]), "modalities"),
        (minimal(min_confidence=1.5), "min_confidence"),
        (minimal(query='missile "open'), "query"),
        (minimal(query="-only -exclusions"), "query"),
        (minimal(query="a OR"), "query"),
        (minimal(id="bad id!"), "id"),
        (minimal(colour="red"), "colour"),
        ({"id": "s"}, "channel"),
        ({"id": "s", "channel": {"type": "pager"}}, "channel[0].type"),
        ({"id": "s", "channel": {"type": "email", "to": ["desk"]}}, "channel[0].to[0]"),
        (
            {"id": "s", "channel": {"type": "email", "to": ["a@b.org", "x@@y.org"]}},
            "channel[0].to[1]",
        ),
        ({"id": "s", "channel": {"type": "slack", "url": "javascript:alert(1)"}}, "channel[0].url"),
        ({"id": "s", "channel": {"type": "webhook", "url": "https://"}}, "channel[0].url"),
        ({"id": "s", "channel": {"type": "email", "to": ["a@b.org"], "mode": "weekly"}}, "channel[0].mode"),
        (
            {"id": "s", "channel": {"type": "email", "to": ["a@b.org"], "mode": "digest", "every_hours": 0}},
            "channel[0].every_hours",
        ),
        ({"id": "s", "channel": {"type": "slack", "url": "https://x.org", "to": ["a@b.org"]}}, "channel[0].to"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(SubscriptionError) as caught:
        parse_subscription(data)
    assert caught.value.field == field
    assert str(caught.value).startswith(field + ": ")


def test_kinds_and_families_come_from_the_taxonomy() -> None:
    for kind in TAXONOMY.kind_names:
        assert parse_subscription(minimal(kinds=[kind])).filter.kinds == (kind,)
    family = TAXONOMY.kind_family["srbm"]
    sub = parse_subscription(minimal(kinds=[family]))
    assert sub.filter.matches(alert(kind="srbm")) and not sub.filter.matches(alert(kind="icbm"))


def test_a_subscription_round_trips_through_its_json() -> None:
    data = {
        "id": "desk",
        "owner": "Asia desk",
        "kinds": ["icbm"],
        "actors": ["North Korea"],
        "min_severity": "high",
        "min_confidence": 0.5,
        "entities": ["Sea of Japan"],
        "query": 'ICBM -drill OR "space launch"',
        "feeds": ["wire-a"],
        "channel": [
            {"type": "email", "to": ["desk@example.org"], "mode": "digest", "every_hours": 6},
            {"type": "webhook", "url": "https://hooks.example.org/x", "secret": "s" * 20},
        ],
    }
    sub = parse_subscription(data)
    assert parse_subscription(orjson.loads(orjson.dumps(sub.to_dict()))) == sub


def test_a_listing_shows_no_credential_and_cannot_be_stored_back() -> None:
    secret, hook = "whsec_" + "k" * 20 + "Q7zp", "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    data = minimal(
        channel=[
            {"type": "webhook", "url": "https://hooks.example.org/x", "secret": secret},
            {"type": "slack", "url": hook},
        ]
    )
    sub = parse_subscription(data)
    listed = sub.to_dict(secrets=False)
    text = orjson.dumps(listed).decode()
    assert secret not in text and "XXXXSECRET" not in text
    # a long credential shows its last four characters: enough to tell it apart and to recognise the one you hold
    assert listed["channel"][0]["secret"] == {"redacted": "…Q7zp"}
    assert listed["channel"][1]["url"] == {"redacted": "…CRET"}
    assert listed["channel"][0]["url"] == "https://hooks.example.org/x"  # a plain webhook URL is no credential
    with pytest.raises(SubscriptionError, match=r"channel\[0\]\.secret: is redacted"):
        parse_subscription(listed)
    assert parse_subscription(sub.to_dict()) == sub  # the export keeps them


def test_a_short_secret_shows_nothing_derived_from_it() -> None:
    # a hash or a tail of a short secret could be matched against a word list offline
    weak = parse_subscription(
        minimal(channel=[{"type": "webhook", "url": "https://x.org", "secret": "hunter2hunter2!!"}])
    )
    shown = weak.to_dict(secrets=False)["channel"][0]["secret"]
    assert shown == {"redacted": "…"}
    assert "hunter" not in orjson.dumps(weak.to_dict(secrets=False)).decode()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example.org/in?token=abc123&team=desk", "https://hooks.example.org/in?token=…&team=…"),
        ("https://bot:pa55word@hooks.example.org:8443/in", "https://hooks.example.org:8443/in"),
        ("http://user@[::1]:9000/hook", "http://[::1]:9000/hook"),
    ],
)
def test_a_webhook_url_that_carries_a_credential_is_listed_without_it(url: str, shown: str) -> None:
    sub = parse_subscription(minimal(channel=[{"type": "webhook", "url": url, "secret": "s" * 30}]))
    listed = sub.to_dict(secrets=False)
    assert listed["channel"][0]["url"] == {"redacted": shown}
    for part in ("abc123", "pa55word", "bot:", "user@"):
        assert part not in orjson.dumps(listed).decode()
    with pytest.raises(SubscriptionError, match=r"channel\[0\]\.url: is redacted"):
        parse_subscription(listed)  # stored back it would post to the wrong place: refused
    assert sub.to_dict()["channel"][0]["url"] == url  # the export keeps it


def test_the_file_names_the_subscription_and_refuses_a_repeated_id() -> None:
    with pytest.raises(SubscriptionError, match=r"subs.toml: subscription\[1\]\.kinds"):
        parse_subscriptions({"subscription": [minimal(), minimal(id="t", kinds=["nuke"])]}, "subs.toml")
    with pytest.raises(SubscriptionError, match="used twice"):
        parse_subscriptions({"subscription": [minimal(), minimal()]}, "subs.toml")


# ---- the filter ------------------------------------------------------------------------------------------
def test_query_terms_phrases_exclusions_and_or() -> None:
    query = parse_query('ICBM "sea of japan" -drill OR hypersonic')
    assert query.matches("An ICBM fell into the Sea of Japan.")
    assert not query.matches("An ICBM drill near the Sea of Japan.")
    assert not query.matches("An ICBM fell into the sea.")
    assert query.matches("A hypersonic glide vehicle")
    assert not parse_query("sea").matches("Overseas")  # whole words


def test_filter_fields() -> None:
    sub = parse_subscription(
        minimal(
            actors=["north korea"], min_severity="high", min_confidence=0.7, entities=["Sea of Japan"], feeds=["wire-a"]
        )
    )
    keep = sub.filter.matches
    assert keep(alert())
    assert not keep(alert(severity="medium"))
    assert not keep(alert(confidence=0.5))
    assert not keep(alert(feed="wire-b"))
    assert not keep(alert(actor="Iran"))
    assert not keep(alert(details={}, evidence=[{"text": "A launch toward the East Sea."}]))
    assert parse_subscription(minimal(entities=["Sea of Japan"])).filter.matches(
        alert(evidence=[{"text": "It fell into the Sea of Japan."}])
    )


# ---- routing ----------------------------------------------------------------------------------------------
def router_with(
    *subs: dict[str, Any], fail: bool = False
) -> tuple[SubscriptionRouter, dict[tuple[str, int], Collected]]:
    sinks: dict[tuple[str, int], Collected] = {}

    def factory(settings: Settings, sub: Any, index: int) -> Collected:
        channel = sub.channels[index]
        batch = 10_000 if channel.mode == "digest" else 1
        sinks[(sub.id, index)] = Collected(sub.channel_id(index), fail, batch_size=batch, max_attempts=2)
        return sinks[(sub.id, index)]

    clock = [1000.0]
    router = SubscriptionRouter(Settings(), [parse_subscription(s) for s in subs], factory, clock=lambda: clock[0])
    router.clock_value = clock  # type: ignore[attr-defined]
    return router, sinks


async def route(router: SubscriptionRouter, record: dict[str, Any]) -> list[Any]:
    return list(await asyncio.gather(*router.route(item(record))))


async def test_immediate_one_message_per_incident_version() -> None:
    router, sinks = router_with(minimal(channel={"type": "email", "to": ["a@b.org"]}))
    await route(router, alert())
    await route(router, alert(alert_id="alr-2", feed="wire-b"))  # another outlet, same report: nothing
    await route(router, alert(alert_id="alr-3", modality="occurred", severity="critical"))  # escalation
    await route(router, alert(alert_id="alr-4", modality="possible", severity="high"))  # lower again: nothing
    await route(router, alert(alert_id="alr-5", incident_id="inc-2"))  # another incident
    sent = [b[0] for b in sinks[("s", 0)].batches]
    assert [i.alert["alert_id"] for i in sent] == ["alr-1", "alr-3", "alr-5"]
    assert len({i.delivery_id for i in sent}) == 3
    # The same version gets the same id on any worker: a restarted worker's repeat is recognisable.
    assert sent[0].delivery_id == delivery_id("s", 0, alert(alert_id="other", feed="wire-c"))
    assert router.rows()[0]["delivered"] == 3 and router.rows()[0]["last_error"] is None


async def test_a_failed_delivery_is_reported_and_a_later_report_may_try_again() -> None:
    router, _ = router_with(minimal(channel={"type": "email", "to": ["a@b.org"]}), fail=True)
    [(channel, _, result)] = await route(router, alert())
    assert channel == "s/0:email" and result.outcome == "failed" and result.attempts == 2
    assert router.rows()[0]["last_error"] == "s/0:email: down after 2 attempts"
    assert len(await route(router, alert(alert_id="alr-2", feed="wire-b"))) == 1


async def test_digest_sends_the_latest_of_each_incident_and_nothing_when_empty() -> None:
    router, sinks = router_with(
        minimal(channel={"type": "email", "to": ["a@b.org"], "mode": "digest", "every_hours": 1})
    )
    assert await route(router, alert()) == []  # nothing immediate
    await route(router, alert(alert_id="alr-2", modality="occurred", severity="critical"))
    await route(router, alert(alert_id="alr-3", incident_id="inc-2"))
    assert await router.flush_digests() == 0  # not due yet
    router.clock_value[0] += 3601  # type: ignore[attr-defined]
    assert await router.flush_digests() == 1
    [batch] = sinks[("s", 0)].batches
    assert sorted(i.alert["alert_id"] for i in batch) == ["alr-2", "alr-3"]
    router.clock_value[0] += 3601  # type: ignore[attr-defined]
    assert await router.flush_digests() == 0 and len(sinks[("s", 0)].batches) == 1


async def test_the_memory_brings_back_versions_sent_and_pending_digests_in_a_new_router() -> None:
    subs = (
        minimal(id="now", channel={"type": "email", "to": ["a@b.org"]}),
        minimal(id="later", channel={"type": "email", "to": ["a@b.org"], "mode": "digest", "every_hours": 1}),
    )
    stored: dict[str, bytes] = {}  # what news.subscriptions.state would hold after compaction

    def keep(key: str, value: bytes | None) -> None:
        if value is None:
            stored.pop(key, None)
        else:
            stored[key] = value

    first, _ = router_with(*subs)
    first.persist = keep
    await route(first, alert())
    await route(first, alert(alert_id="alr-2", incident_id="inc-2", modality="occurred", severity="critical"))
    assert sorted(k for k in stored if not k.startswith("due/")) == [
        "digest/later/0/inc-1",
        "digest/later/0/inc-2",
        "level/now/0/inc-1",
        "level/now/0/inc-2",
    ]

    # a new worker: another outlet's copy is not sent, the digest holds both incidents and is due as before
    second, sinks = router_with(*subs)
    second.persist = keep
    assert second.restore(stored) == 5
    assert await route(second, alert(alert_id="alr-3", feed="wire-b")) == []
    assert await second.flush_digests() == 0  # not due yet
    second.clock_value[0] += 3601  # type: ignore[attr-defined]
    assert await second.flush_digests() == 1
    [batch] = sinks[("later", 0)].batches
    assert sorted(i.alert["alert_id"] for i in batch) == ["alr-2", "alr-3"]  # inc-1's latest: the copy
    assert [i.body for i in batch if i.alert["alert_id"] == "alr-2"] == [
        orjson.dumps(alert(alert_id="alr-2", incident_id="inc-2", modality="occurred", severity="critical"))
    ]
    # sent: forgotten, so a third worker sends it no more
    assert not [k for k in stored if k.startswith("digest/")]
    third, sinks = router_with(*subs)
    third.restore(stored)
    third.clock_value[0] += 10_000  # type: ignore[attr-defined]
    assert await third.flush_digests() == 0
    # a removed subscription's memory is forgotten at restore
    fourth, _ = router_with(subs[0])
    fourth.persist = keep
    fourth.restore(dict(stored))
    assert not [k for k in stored if "/later/" in k]


# ---- the messages -----------------------------------------------------------------------------------------
def test_subject_text_and_html() -> None:
    record = alert(modality="occurred", kind="srbm", severity="high", title="<b>Launch</b>")
    assert (
        message.subject(record)
        == "[HIGH] North Korea: launch of 2 short-range ballistic missiles toward the Sea of Japan"
    )
    assert "> Officials said an ICBM test may come within weeks." in message.text([record])
    assert "&lt;b&gt;Launch&lt;/b&gt;" in message.html_body([record]) and "<b>Launch" not in message.html_body([record])
    mail = EmailSink("e", server=SmtpServer("localhost", 25), to=["a@b.org"]).compose([item(record), item(alert())])
    assert "2 incidents" not in mail["Subject"] and "wirewatch digest: 1 incident" in mail["Subject"]
    assert mail.get_body(("html",)) is not None and mail.get_body(("plain",)) is not None


def test_an_escalation_says_from_what_in_subject_and_body() -> None:
    raised = alert(modality="occurred", severity="critical", escalates={"modality": "possible", "severity": "high"})
    assert (
        message.subject(raised) == "[CRITICAL] Escalated (possible → occurred): North Korea: launch of 2 ICBMs "
        "toward the Sea of Japan"
    )
    assert "Escalated: possible → occurred" in message.text([raised])
    severity_only = alert(severity="critical", escalates={"modality": "possible", "severity": "high"})
    assert message.subject(severity_only).startswith("[CRITICAL] Escalated (high → critical): ")
    assert "Escalated" not in message.subject(alert()) and "Escalated" not in message.text([alert()])


def test_every_severity_of_the_taxonomy_has_a_colour() -> None:
    assert set(message.SEVERITY_COLOURS) == set(TAXONOMY.severity_rank)


def test_chat_payloads_carry_the_severity_colour() -> None:
    record = alert(severity="critical")
    slack = slack_payload([record])
    assert slack["attachments"][0]["color"] == message.SEVERITY_COLOURS["critical"]
    assert slack["attachments"][0]["blocks"][0]["text"]["text"].startswith("*[CRITICAL]")
    assert mattermost_payload([record])["attachments"][0]["color"] == message.SEVERITY_COLOURS["critical"]


@pytest.mark.parametrize("secret", ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a plain shared secret"])
def test_standard_webhooks_signature_verifies_with_the_reference_library(secret: str) -> None:
    import base64
    import time

    body = orjson.dumps(alert())
    headers = headers_for(Webhook("h", "https://x.org", secret=secret), body, "dlv-1", now=time.time())
    assert headers["webhook-id"] == "dlv-1" and headers["webhook-signature"].startswith("v1,")
    key = secret if secret.startswith("whsec_") else base64.b64encode(secret.encode()).decode()
    assert StandardWebhook(key).verify(body, headers) == orjson.loads(body)
    with pytest.raises(Exception, match="signature"):
        StandardWebhook(key).verify(body + b" ", headers)


def test_readme_subscriptions_example_is_valid() -> None:
    import tomllib

    [sub] = parse_subscriptions(tomllib.loads(readme_block("subscriptions-toml", "toml")), "README.md")
    assert [c.type for c in sub.channels] == ["email", "slack", "webhook"]
    assert sub.channels[1].mode == "digest" and sub.channels[1].every_hours == 6
