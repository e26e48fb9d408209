"""Real workers (``wirewatch run`` subprocesses) and real Kafka clients for the integration suite."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wirewatch.streams import testing
from wirewatch.streams.broker import ensure_topics
from wirewatch.streams.settings import Settings
from wirewatch.streams.testing import WorkerProcess

PARTITIONS = 2
#: For the workers of a test that kills one and starts the next: a restarted worker gets the partitions once
#: the dead one's session ends, so a 6 s session (Apache Kafka's least; the suite's 10 s otherwise) changes
#: when, not what, it reads again from the committed offsets, and saves 10-20 s on the embedded broker.
SHORT_SESSION = {"WIREWATCH_SESSION_TIMEOUT": "6"}


class Cluster:
    """Test-scoped names (topic prefix, app id) on the session's broker, workers and topic I/O."""

    def __init__(self, bootstrap: str, tmp_path: Path) -> None:
        self.bootstrap = bootstrap
        self.tmp_path = tmp_path
        tag = uuid.uuid4().hex[:8]
        self.prefix = f"t{tag}."
        self.app_id = f"wirewatch-test-{tag}"
        self.workers: list[WorkerProcess] = []
        self._topics_created = False

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def worker(self, command: str = "run", **extra: str) -> WorkerProcess:
        settings = {
            "WIREWATCH_PARTITIONS": str(PARTITIONS),
            "WIREWATCH_REBALANCE_TIMEOUT": "3",
            "WIREWATCH_SESSION_TIMEOUT": "10",
            "WIREWATCH_BATCH_WITHIN": "0.1",
            **extra,
        }
        env = testing.worker_env(self.bootstrap, self.prefix, self.app_id, self.tmp_path / "data", **settings)
        worker = WorkerProcess(env, self.tmp_path / f"worker{len(self.workers)}.log", command)
        self.workers.append(worker)
        return worker.start()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``wirewatch ARGS`` as a subprocess on this cluster's broker, topics, group and workers' data dir
        (where the archive is); the caller's other WIREWATCH_* variables are dropped."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
        env.update(
            WIREWATCH_BROKER=f"kafka://{self.bootstrap}",
            WIREWATCH_TOPIC_PREFIX=self.prefix,
            WIREWATCH_APP_ID=self.app_id,
            WIREWATCH_DATA_DIR=str(self.tmp_path / "data"),
        )
        return subprocess.run(
            [sys.executable, "-m", "wirewatch.streams.cli", *args], env=env, capture_output=True, text=True, timeout=120
        )

    async def create_topics(self) -> None:
        """Create the catalog's topics as a worker would (Apache Kafka here does not auto-create)."""
        if not self._topics_created:
            settings = Settings(broker=self.bootstrap, topic_prefix=self.prefix, partitions=PARTITIONS)
            await ensure_topics(settings)
            self._topics_created = True

    async def produce(self, records: list[tuple[bytes | None, bytes | None]], topic: str = "news.raw") -> None:
        await self.create_topics()
        await testing.produce(self.bootstrap, self.topic(topic), records)

    async def consume(
        self, topic: str, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 90.0
    ) -> list[dict[str, Any]]:
        def until_or_dead(records: list[dict[str, Any]]) -> bool:
            for worker in self.workers:  # a crashed worker fails the test now, with its log
                if worker.process is not None and worker.process.poll() is not None:
                    pytest.fail(f"worker exited with {worker.process.returncode}:\n{worker.log()[-4000:]}")
            return until(records)

        return await testing.consume(self.bootstrap, self.topic(topic), until_or_dead, timeout)


@pytest.fixture
def cluster(broker_bootstrap: str, tmp_path: Path) -> Iterator[Cluster]:
    cluster = Cluster(broker_bootstrap, tmp_path)
    yield cluster
    for worker in cluster.workers:
        worker.stop()
