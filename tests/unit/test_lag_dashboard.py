"""The dashboard's pure parts (no broker): throughput from end-offset samples, the alert list, server-sent
events and token checks."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import orjson

from wirewatch.streams import metrics
from wirewatch.streams.lag import LagRow, LagSnapshot
from wirewatch.streams.settings import Settings
from wirewatch.streams.web import auth
from wirewatch.streams.web.dashboard import Dashboard, alert_view, dead_letter_view, sse_event, throughput


def test_throughput_per_minute_over_each_window() -> None:
    samples = [(0.0, {"raw": 0}), (200.0, {"raw": 100}), (260.0, {"raw": 160}), (300.0, {"raw": 200})]
    rates = throughput(samples, now=300.0)
    assert rates["raw"]["total"] == 200
    assert rates["raw"]["per_min_1m"] == 60.0  # 40 records in the 40 s between 260 and 300
    assert rates["raw"]["per_min_5m"] == 40.0  # 200 records in 300 s


def test_throughput_needs_two_samples_in_the_window() -> None:
    assert throughput([(10.0, {"raw": 5})], now=10.0)["raw"]["per_min_1m"] is None
    assert throughput([], now=0.0) == {}


def test_throughput_ignores_a_topic_that_appeared_later() -> None:
    rates = throughput([(0.0, {"raw": 0}), (30.0, {"raw": 6, "new": 4})], now=30.0)
    assert rates["raw"]["per_min_1m"] == 12.0
    assert rates["new"]["per_min_1m"] is None


def alert(alert_id: str, title: str = "t", **extra: Any) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "incident_id": "inc",
        "severity": "high",
        "kind": "srbm",
        "modality": "occurred",
        "actor": "North Korea",
        "title": title,
        "evidence": [{"text": "fired a missile", "start": 0, "end": 15}],
        **extra,
    }


def dashboard(**kwargs: Any) -> Dashboard:
    settings = Settings(app_id="unit", data_dir="/tmp/unused")
    deadletter = SimpleNamespace(get_topic_name=lambda: "news.deadletter")
    pipeline = SimpleNamespace(settings=settings, deadletter=deadletter)
    return Dashboard(pipeline, None, **kwargs)  # type: ignore[arg-type]


def test_alert_view_keeps_what_the_page_shows() -> None:
    view = alert_view(alert("a1", title="<img src=x onerror=alert(1)>", url="https://example.org/x"))
    # The Alert record's evidence objects, as the README and the schema give them (not reshaped to strings).
    assert view["evidence"] == [{"text": "fired a missile", "start": 0, "end": 15}]
    assert view["title"] == "<img src=x onerror=alert(1)>"  # data stays data: escaping is the page's job
    assert view["url"] == "https://example.org/x"


def test_dead_letter_view_drops_the_original_bytes() -> None:
    record = {"stage": "validate", "reason": "not_json", "error": "e" * 1000, "original_b64": "QQ=="}
    view = dead_letter_view(record)
    assert "original_b64" not in view and len(view["error"]) == 300


def test_alerts_newest_first_deduplicated_and_bounded() -> None:
    board = dashboard()
    board.keep_alerts = 3
    board.alerts = type(board.alerts)(maxlen=3)
    assert board.add_alert(alert("a1"))
    assert not board.add_alert(alert("a1"))  # a replayed alert is shown once
    for n in range(2, 6):
        board.add_alert(alert(f"a{n}"))
    assert [a["alert_id"] for a in board.alerts] == ["a5", "a4", "a3"]
    assert board.add_alert(alert("a1"))  # fell out of the window: new again


def test_subscribers_get_new_alerts_and_are_closed_on_shutdown() -> None:
    board = dashboard()
    queue = board.subscribe()
    board.add_alert(alert("s1"))
    assert queue.get_nowait()["alert_id"] == "s1"
    board.close_streams()
    assert queue.get_nowait() is None


def test_a_client_that_does_not_read_is_dropped() -> None:
    board = dashboard()
    queue = board.subscribe()
    for n in range(300):
        board.add_alert(alert(f"f{n}"))
    drained = []
    while not queue.empty():
        drained.append(queue.get_nowait())
    assert drained[-1] is None and queue not in board._subscribers


def test_lag_status_and_throughput_from_snapshots() -> None:
    board = dashboard(lag_groups=["siem"])
    for committed, end, at in ((1, 5, 100.0), (5, 11, 130.0)):
        rows = [LagRow("unit", "news.raw", 0, committed, end)]
        board.record_lag(LagSnapshot(rows, {("news.raw", 0): end}, {}, taken_at=at))
    status = board.lag_status()
    assert status["groups"] == ["unit", "siem"] and status["total"] == 6
    assert throughput(board.samples, now=130.0)["news.raw"]["per_min_1m"] == 12.0


def test_feed_health_without_a_runner_says_so() -> None:
    assert dashboard().feed_health() == {"configured": False, "feeds": []}

    class Runner:
        def health(self) -> dict[str, Any]:
            return {"rss-1": {"errors": 1, "new": 3, "consecutive_errors": 1}}

    board = dashboard()
    board.attach_feeds(Runner())
    assert board.feed_health()["feeds"] == [{"id": "rss-1", "errors": 1, "new": 3, "consecutive_errors": 1}]
    assert metrics.REGISTRY.get_sample_value("wirewatch_feed_errors_total", {"feed": "rss-1"}) == 1
    # The worker's runner on the pipeline is found without attaching it, and counted once.
    other = dashboard()
    other.pipeline.feed_runner = Runner()  # type: ignore[attr-defined]
    other.pipeline.feed_runner.health = lambda: {"rss-2": {"errors": 4}}  # type: ignore[attr-defined]
    assert other.feed_health()["configured"] is True
    assert metrics.REGISTRY.get_sample_value("wirewatch_feed_errors_total", {"feed": "rss-2"}) == 4


def test_sse_event_is_one_data_line_even_with_newlines_in_text() -> None:
    event = sse_event({"text": "line one\nline two\r\ndata: fake"}, "alert", "id-1").decode()
    assert event.endswith("\n\n")
    lines = event[:-2].split("\n")
    assert lines[0] == "id: id-1" and lines[1] == "event: alert"
    assert len(lines) == 3 and orjson.loads(lines[2].removeprefix("data: "))["text"].startswith("line one\n")


def test_token_checks() -> None:
    assert auth.is_authorized(None, {}, {})
    assert not auth.is_authorized("s3cret", {}, {})
    assert auth.is_authorized("s3cret", {"Authorization": "Bearer s3cret"}, {})
    assert not auth.is_authorized("s3cret", {"Authorization": "Bearer wrong"}, {})
    assert not auth.is_authorized("s3cret", {"Authorization": "Basic s3cret"}, {})
    # A session cookie is accepted only by the gate that issued it (is_authorized knows no sessions).
    gate = auth.Gate("s3cret")
    cookie = gate.sessions.create()
    assert cookie != "s3cret" and gate.allows({}, {auth.COOKIE: cookie})
    assert not auth.is_authorized("s3cret", {}, {auth.COOKIE: cookie})
    assert not auth.Gate("s3cret").allows({}, {auth.COOKIE: cookie})


def test_queue_type_is_asyncio() -> None:
    assert isinstance(dashboard().subscribe(), asyncio.Queue)
