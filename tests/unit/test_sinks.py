"""The sink interface (streams/sinks/base.py) with real sinks: batching, filters, retries and backoff,
permanent errors, metrics; and the loader (sinks.toml + the wirewatch.sinks entry points), with the
example plugin distribution ``tests/sink_dist`` installed as pip would."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
import pytest

from tests.unit.test_feeds_config import plugin_installed
from wirewatch.streams import metrics
from wirewatch.streams.settings import Settings, SettingsError
from wirewatch.streams.sinks import AlertSink, Backoff, SinkConfigError, SinkError, SinkItem, load_sinks, sink_types
from wirewatch.streams.sinks.base import SinkSet, decode_alert

SINK_DIST = Path(__file__).resolve().parents[1] / "sink_dist"
FAST = Backoff(initial=0.01, factor=2.0, maximum=0.05, jitter=0.0)


def item(n: int, kind: str = "icbm", severity: str = "critical") -> SinkItem:
    body = orjson.dumps({"alert_id": f"a{n}", "kind": kind, "severity": severity, "actor": "North Korea"})
    return decode_alert(body)


class Recorder(AlertSink):
    """Keeps every batch it was given; fails the first ``failures`` writes with ``error``."""

    def __init__(self, id: str, *, failures: int = 0, error: Exception | None = None, **common: object) -> None:
        super().__init__(id, backoff=FAST, **common)  # type: ignore[arg-type]
        self.failures, self.error = failures, error or SinkError("busy")
        self.writes: list[list[str]] = []

    async def write(self, items: Sequence[SinkItem]) -> int:
        self.writes.append([i.delivery_id for i in items])
        if len(self.writes) <= self.failures:
            raise self.error
        return 200


async def test_items_are_written_in_batches_in_order() -> None:
    sink = Recorder("rec", batch_size=2)
    results = await sink.deliver([item(n) for n in range(5)])
    assert sink.writes == [["a0", "a1"], ["a2", "a3"], ["a4"]]
    assert [r.outcome for r in results] == ["delivered"] * 3


async def test_a_retryable_error_is_retried_with_backoff_then_delivered() -> None:
    before = metrics.REGISTRY.get_sample_value(
        "wirewatch_sink_deliveries_total", {"sink": "flaky", "outcome": "delivered"}
    )
    sink = Recorder("flaky", failures=2, max_attempts=5, batch_size=2)
    (result,) = await sink.deliver([item(1), item(2)])
    assert (result.outcome, result.attempts, result.status) == ("delivered", 3, 200)
    after = metrics.REGISTRY.get_sample_value(
        "wirewatch_sink_deliveries_total", {"sink": "flaky", "outcome": "delivered"}
    )
    assert after - (before or 0) == 2  # counted per alert


async def test_attempts_are_used_up_then_the_batch_fails() -> None:
    sink = Recorder("down", failures=99, max_attempts=3)
    (result,) = await sink.deliver([item(1)])
    assert (result.outcome, result.attempts, result.error) == ("failed", 3, "busy")
    assert result.describe() == "down: busy after 3 attempts"


async def test_a_permanent_error_and_a_bug_are_not_retried() -> None:
    refused = Recorder("refused", failures=9, error=SinkError("HTTP 404", retry=False, status=404))
    (result,) = await refused.deliver([item(1)])
    assert (result.outcome, result.attempts, result.status) == ("rejected", 1, 404)
    buggy = Recorder("buggy", failures=9, error=KeyError("oops"))
    (result,) = await buggy.deliver([item(1)])
    assert (result.outcome, result.attempts) == ("rejected", 1) and "KeyError" in (result.error or "")


async def test_the_wait_a_target_asks_for_is_capped_by_the_backoff() -> None:
    sink = Recorder("slow-down", failures=1, error=SinkError("HTTP 429", retry_after=60.0))
    started = time.monotonic()
    (result,) = await sink.deliver([item(1)])
    assert result.ok and result.attempts == 2 and time.monotonic() - started < 1.0


async def test_a_sink_set_gives_each_sink_the_alerts_it_accepts() -> None:
    icbm, everything = Recorder("icbm", kinds=("icbm",)), Recorder("all", min_severity="high")
    sinks = SinkSet([icbm, everything])
    delivered = await sinks.deliver([item(1), item(2, kind="cruise"), item(3, severity="low")])
    assert icbm.writes == [["a1"], ["a3"]] and everything.writes == [["a1"], ["a2"]]
    assert len(delivered) == 4


def test_a_record_that_is_not_an_alert_is_refused() -> None:
    for body, reason in ((b"not json", "not_json"), (b"[1]", "not_object"), ("text", "wrong_type")):
        with pytest.raises(ValueError) as caught:
            decode_alert(body)
        assert caught.value.reason == reason  # type: ignore[attr-defined]


# ---- the loader and the plugin ----------------------------------------------------------------------------
@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from plugin_installed(monkeypatch, tmp_path / "site", SINK_DIST, "wirewatch_sink_example")


def sinks_file(tmp_path: Path, body: str) -> Settings:
    path = tmp_path / "sinks.toml"
    path.write_text(body)
    return Settings.from_env({"WIREWATCH_SINKS": str(path)})


def test_the_webhook_sink_is_built_in() -> None:
    assert "webhook" in sink_types()


async def test_the_example_plugin_loads_from_its_entry_point_and_writes(plugin: None, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    settings = sinks_file(tmp_path, f'[[sink]]\nid = "book"\ntype = "ledger"\npath = "{ledger}"\nbatch_size = 3\n')
    (sinks,) = load_sinks(settings)
    (sink,) = sinks.sinks
    assert type(sink).__module__ == "wirewatch_sink_example" and sink.batch_size == 3
    await sinks.deliver([item(n) for n in range(4)])
    assert [orjson.loads(line)["alert_id"] for line in ledger.read_bytes().splitlines()] == ["a0", "a1", "a2", "a3"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('type = "ledger"\npath = "x"\ncolour = "red"\n', r"sink 'book': unknown option\(s\) 'colour'"),
        ('type = "nope"\n', r"sink 'book': unknown sink type 'nope' \(installed: .*ledger"),
        ("", r"sink 'book': option 'type' is required"),
        ('type = "ledger"\n', r"sink 'book': .*path"),
        ('type = "ledger"\npath = "x"\nmax_attempts = 0\n', r"sink 'book': option 'max_attempts' must be"),
        ('type = "ledger"\npath = "x"\nmin_severity = "dire"\n', r"sink 'book': option 'min_severity' must be"),
    ],
)
def test_a_bad_sink_table_is_refused_with_the_sink_and_key_named(
    plugin: None, tmp_path: Path, table: str, message: str
) -> None:
    settings = sinks_file(tmp_path, f'[[sink]]\nid = "book"\n{table}')
    with pytest.raises(SinkConfigError, match=message):
        load_sinks(settings)
    assert issubclass(SinkConfigError, SettingsError)  # the worker stops like on a bad variable
