"""The archive consumer's pieces that need no broker: sorting a poll into records and dead letters, and
retention on a real SQLite store."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from aiokafka import ConsumerRecord

from wirewatch.streams.archive import Archiver, Batch
from wirewatch.streams.settings import Settings, SettingsError
from wirewatch.streams.store.sqlite import SqliteStore
from wirewatch.streams.topics import ALERTS, ENRICHED, INCIDENTS


def message(topic: str, value: bytes, offset: int = 0) -> ConsumerRecord:
    return ConsumerRecord(topic, 0, offset, 0, 0, b"key", value, None, len(b"key"), len(value), [])


def enriched(article_id: str, published_at: str) -> dict[str, object]:
    return {"id": article_id, "title": "t", "text": "missile test", "published_at": published_at}


def test_a_poll_is_sorted_and_what_is_not_a_record_becomes_a_dead_letter() -> None:
    batch = Batch()
    batch.add(ENRICHED, message("p.news.enriched", orjson.dumps(enriched("a1", "2019-12-12T10:00:00Z"))))
    batch.add(ALERTS, message("p.news.alerts", orjson.dumps({"alert_id": "x", "incident_id": "i"})))
    batch.add(INCIDENTS, message("p.news.incidents", orjson.dumps({"incident_id": "i", "alert_count": 1})))
    batch.add(INCIDENTS, message("p.news.incidents", orjson.dumps({"incident_id": "i", "alert_count": 2})))
    batch.add(ENRICHED, message("p.news.enriched", b"{not json", offset=7))
    batch.add(ALERTS, message("p.news.alerts", b'{"incident_id": "i"}', offset=8))
    assert [a["id"] for a in batch.articles] == ["a1"] and len(batch.alerts) == 1 and len(batch.incidents) == 2
    assert [(d.reason, d.stage, d.offset, d.original) for d in batch.dead] == [
        ("invalid_json", "archive", 7, b"{not json"),
        ("invalid_record", "archive", 8, b'{"incident_id": "i"}'),
    ]
    assert "'alert_id'" in batch.dead[1].error


def test_retention_prunes_old_articles_only_when_set(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.sqlite3")
    old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 10 * 86400))
    new = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    store.upsert_articles([enriched("old", old), enriched("new", new)])
    assert Archiver(Settings(), store).prune() == 0  # 0 days: keep everything
    assert Archiver(Settings(store_retention_days=7), store).prune() == 1
    assert store.counts()["articles"] == 1
    store.close()


def test_a_negative_retention_is_refused() -> None:
    with pytest.raises(SettingsError, match="WIREWATCH_STORE_RETENTION_DAYS"):
        Settings.from_env({"WIREWATCH_STORE_RETENTION_DAYS": "-1"})
