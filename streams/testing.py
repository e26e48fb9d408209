"""Running real workers and reading topics from outside: used by the integration tests, the benchmarks
and anyone testing a feed plugin against a live pipeline."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from .broker import free_port


def child_pids(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux lists them per thread that started them)."""
    children: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return children


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class WorkerProcess:
    """One ``wirewatch run`` (or ``command``: ``demo``) process with the given environment; its output goes to
    ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path, command: str = "run") -> None:
        self.env = env
        self.log_path = log_path
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "wirewatch.streams.cli", self.command],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def peak_rss_mb(self) -> float | None:
        """Peak resident memory (VmHWM) of the running worker plus its child processes (the analysis
        process of WIREWATCH_NLP_PROCESS), in MB: the sum of each one's peak, an upper bound."""
        if self.process is None:
            return None
        pids = [self.process.pid, *child_pids(self.process.pid)]
        peaks = [_peak_rss_mb(pid) for pid in pids]
        return sum(p for p in peaks if p is not None) if peaks[0] is not None else None

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, wait; SIGKILL after ``timeout``. Returns the exit code (None-safe)."""
        proc, self.process = self.process, None
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                return proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise TimeoutError(f"worker did not stop within {timeout}s; log: {self.log_path}") from None
        return proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def worker_env(
    bootstrap: str, prefix: str, app_id: str, data_dir: Path, *, inherit: bool = False, **extra: str
) -> dict[str, str]:
    """The environment of a worker on ``bootstrap`` with its own topic prefix, group and data dir.

    Other WIREWATCH_* variables of this process are dropped (tests must not depend on the caller's
    configuration) unless ``inherit`` (benchmarks: ``WIREWATCH_BATCH_SIZE=32 python bench/...``).
    """
    env = {k: v for k, v in os.environ.items() if inherit or not k.startswith("WIREWATCH_")}
    env.update(
        WIREWATCH_BROKER=f"kafka://{bootstrap}",
        WIREWATCH_TOPIC_PREFIX=prefix,
        WIREWATCH_APP_ID=app_id,
        WIREWATCH_WEB_PORT=str(free_port()),
        WIREWATCH_DATA_DIR=str(data_dir),
        # A crash in native code (a segfault) then leaves every thread's Python stack in the worker's log.
        PYTHONFAULTHANDLER="1",
    )
    env.update(extra)
    return env


async def produce(
    bootstrap: str,
    topic: str,
    records: Sequence[tuple[bytes | None, bytes | None]],
    partitions: Sequence[int] | None = None,
) -> list[float]:
    """Produce ``records`` (acks=all) and return each record's send time (epoch seconds). ``partitions``
    (one per record) overrides the key's partition."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=12_000_000)
    await producer.start()
    sent_at: list[float] = []
    try:
        futures = []
        for i, (key, value) in enumerate(records):
            sent_at.append(time.time())
            partition = partitions[i] if partitions is not None else None
            futures.append(await producer.send(topic, key=key, value=value, partition=partition))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent_at


async def consume(
    bootstrap: str,
    topic: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 90.0,
    from_beginning: bool = True,
) -> list[dict[str, Any]]:
    """Read JSON records of ``topic`` (each with ``_key`` and ``_received`` added) until ``until(records)``
    holds or ``timeout`` passes; waits for the topic to exist."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        fetch_max_bytes=16_000_000,
        max_partition_fetch_bytes=16_000_000,
        fetch_max_wait_ms=50,  # arrival times are measured: do not let a fetch sit on new data
    )
    await consumer.start()
    records: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + timeout
        partitions: set[int] | None = None
        while time.monotonic() < deadline:
            await consumer._client.force_metadata_update()
            partitions = consumer._client.cluster.partitions_for_topic(topic)
            if partitions:
                break
            await asyncio.sleep(0.3)
        if not partitions:
            return records
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        if from_beginning:
            await consumer.seek_to_beginning()
        while not until(records) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for messages in batch.values():
                records.extend(orjson.loads(m.value) | {"_key": m.key, "_received": now} for m in messages)
        return records
    finally:
        await consumer.stop()
