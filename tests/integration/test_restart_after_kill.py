"""A `wirewatch run` killed with SIGKILL leaves its embedded Tansu running (own session, memory storage):
the CLI keeps finding it, the next `wirewatch run` on the data dir adopts it and processes every article
it holds, and a normal stop leaves no Tansu behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from wirewatch.streams import testing
from wirewatch.streams.broker import (
    ADDRESS_FILE,
    TANSU_FILE,
    EmbeddedBroker,
    TansuRecord,
    free_port,
    read_tansu_record,
)
from wirewatch.streams.records import article_id
from wirewatch.streams.settings import Settings
from wirewatch.streams.testing import WorkerProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("WIREWATCH_TEST_BROKER", "tansu") != "tansu",
        reason="tests the embedded broker `wirewatch run` starts, whatever broker the suite runs on",
    ),
]

PER_BATCH = 100


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        WIREWATCH_DATA_DIR=str(data_dir),
        WIREWATCH_WEB_PORT=str(free_port()),
        WIREWATCH_PARTITIONS="2",
        WIREWATCH_REBALANCE_TIMEOUT="3",
        WIREWATCH_SESSION_TIMEOUT="10",
        WIREWATCH_BATCH_WITHIN="0.1",
    )
    return env


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wirewatch.streams.cli", *args],
        env=cli_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def articles_file(path: Path, batch: int) -> list[str]:
    """Write PER_BATCH articles (texts written for this test) and return their ids."""
    rows = [
        {
            "url": f"https://example.test/restart/{batch}/{n}",
            "title": f"Council notice {batch}-{n}",
            "text": f"The town council of Elland approved repair plan number {n} for the harbour on Monday.",
        }
        for n in range(PER_BATCH)
    ]
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return [article_id(row["url"], row["title"], row["text"]) for row in rows]


def wait_for_owner(data_dir: Path, worker: WorkerProcess, timeout: float = 120.0) -> str:
    """The bootstrap `worker` recorded once its broker and topics are up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.process is not None
        if worker.process.poll() is not None:
            pytest.fail(f"worker exited with {worker.process.returncode}:\n{worker.log()[-4000:]}")
        try:
            record = orjson.loads((data_dir / ADDRESS_FILE).read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            record = {}
        if record.get("pid") == worker.pid:
            return str(record["bootstrap"])
        time.sleep(0.2)
    pytest.fail(f"worker recorded no broker within {timeout}s:\n{worker.log()[-4000:]}")


def tansu_children(pid: int) -> list[int]:
    return [c for c in testing.child_pids(pid) if b"tansu" in Path(f"/proc/{c}/cmdline").read_bytes()]


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in ("Z", "X")
    except OSError:
        return False


def raw_lag(data_dir: Path) -> int:
    answer = cli(data_dir, "lag", "--json")
    assert answer.returncode == 0, answer.stderr
    return sum(row["lag"] for row in orjson.loads(answer.stdout) if row["topic"] == "news.raw")


@pytest.fixture
def leftovers() -> Iterator[list[int]]:
    """Tansu pids a test saw: killed at the end whatever happened, so no broker outlives the test."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.timeout(480)
async def test_restart_after_sigkill_adopts_the_live_broker_and_processes_everything(
    tmp_path: Path, leftovers: list[int]
) -> None:
    data_dir = tmp_path / "data"
    first = WorkerProcess(cli_env(data_dir), tmp_path / "worker1.log").start()
    second: WorkerProcess | None = None
    try:
        bootstrap = wait_for_owner(data_dir, first)
        leftovers.extend(tansu_children(first.pid or 0))
        [tansu] = leftovers

        before = articles_file(tmp_path / "before.jsonl", 1)
        sent = cli(data_dir, "ingest", str(tmp_path / "before.jsonl"))
        assert sent.returncode == 0, sent.stderr
        # Kill the worker mid-stream: once it has enriched something, or after 20 s.
        await testing.consume(bootstrap, "news.enriched", lambda records: len(records) > 0, timeout=20)
        assert first.process is not None
        first.process.kill()
        first.process.wait(30)
        assert running(tansu), "the embedded broker must outlive a SIGKILL of its worker (it holds the data)"

        # With no worker, the CLI still finds the broker and its data.
        after = articles_file(tmp_path / "after.jsonl", 2)
        sent = cli(data_dir, "ingest", str(tmp_path / "after.jsonl"))
        assert sent.returncode == 0, sent.stderr
        assert bootstrap in sent.stdout and "its killed worker left running" in sent.stderr
        assert raw_lag(data_dir) >= PER_BATCH

        second = WorkerProcess(cli_env(data_dir), tmp_path / "worker2.log").start()
        assert wait_for_owner(data_dir, second) == bootstrap  # the same broker, taken over
        assert "taking over the embedded broker" in second.log()
        recorded = read_tansu_record(data_dir / TANSU_FILE)
        assert recorded is not None and (recorded.bootstrap, recorded.pid, recorded.owner) == (
            bootstrap,
            tansu,
            second.pid,
        )

        wanted = set(before) | set(after)
        enriched = await testing.consume(
            bootstrap, "news.enriched", lambda records: wanted <= {r["id"] for r in records}, timeout=240
        )
        assert wanted <= {r["id"] for r in enriched}, second.log()[-4000:]
        deadline = time.monotonic() + 60
        while raw_lag(data_dir) and time.monotonic() < deadline:
            await asyncio.sleep(1)
        assert raw_lag(data_dir) == 0

        assert second.stop() == 0
        assert not running(tansu), "a worker that stops normally stops the broker it adopted"
        assert not (data_dir / TANSU_FILE).exists() and not (data_dir / ADDRESS_FILE).exists()
        answer = cli(data_dir, "lag")
        assert answer.returncode == 1 and "no running `wirewatch run` found" in answer.stderr
    finally:
        for worker in (first, second):
            if worker is not None and worker.process is not None and worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait(30)


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_recorded_pid_that_is_not_tansu_is_neither_adopted_nor_stopped(tmp_path: Path) -> None:
    """A recycled pid: the record names a process that is not a Tansu on the recorded address."""
    record = tmp_path / TANSU_FILE
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        record.write_bytes(TansuRecord(f"127.0.0.1:{free_port()}", bystander.pid, dead_pid(), None).to_bytes())
        assert EmbeddedBroker.adopt(Settings(data_dir=str(tmp_path)), record) is None
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_a_broker_of_a_live_worker_is_not_adopted(tmp_path: Path, leftovers: list[int]) -> None:
    record = tmp_path / TANSU_FILE
    with EmbeddedBroker(Settings(), port=free_port(), log_file=tmp_path / "tansu.log", record=record) as broker:
        assert broker.pid is not None
        leftovers.append(broker.pid)
        recorded = read_tansu_record(record)
        assert recorded is not None and (recorded.bootstrap, recorded.pid, recorded.owner) == (
            broker.bootstrap,
            broker.pid,
            os.getpid(),
        )
        assert EmbeddedBroker.adopt(Settings(data_dir=str(tmp_path)), record) is None  # we own it, alive
        assert running(broker.pid)
    assert not running(leftovers[0]) and not record.exists()


def test_a_left_broker_that_does_not_answer_is_stopped_not_adopted(tmp_path: Path, leftovers: list[int]) -> None:
    record = tmp_path / TANSU_FILE
    broker = EmbeddedBroker(Settings(), port=free_port(), log_file=tmp_path / "tansu.log", record=record).start()
    assert broker.pid is not None and broker.process is not None
    leftovers.append(broker.pid)
    try:
        record.write_bytes(TansuRecord(broker.bootstrap, broker.pid, dead_pid(), None).to_bytes())  # worker died
        os.kill(broker.pid, signal.SIGSTOP)  # hung: accepts nothing
        settings = Settings(data_dir=str(tmp_path))
        assert EmbeddedBroker.adopt(settings, record, timeout=2) is None
        broker.process.wait(30)  # stopped by adopt (SIGKILL reaches a stopped process)
        assert not record.exists()
    finally:
        broker.stop()


def test_an_owner_pid_reused_by_another_process_does_not_block_adoption(tmp_path: Path, leftovers: list[int]) -> None:
    """The killed worker's pid now belongs to another process (its start time differs): adopt anyway."""
    record = tmp_path / TANSU_FILE
    broker = EmbeddedBroker(Settings(), port=free_port(), log_file=tmp_path / "tansu.log", record=record).start()
    assert broker.pid is not None and broker.process is not None
    leftovers.append(broker.pid)
    newcomer = subprocess.Popen(["sleep", "60"])
    try:
        recorded = read_tansu_record(record)
        assert recorded is not None and recorded.owner_started is not None
        reused = TansuRecord(broker.bootstrap, broker.pid, newcomer.pid, recorded.owner_started - 1)
        record.write_bytes(reused.to_bytes())
        adopted = EmbeddedBroker.adopt(Settings(data_dir=str(tmp_path)), record)
        assert adopted is not None and adopted.pid == broker.pid and adopted.bootstrap == broker.bootstrap
        recorded = read_tansu_record(record)
        assert recorded is not None and recorded.owner == os.getpid()
        adopted.stop()
        broker.process.wait(30)  # the adopter stopped it
        assert not record.exists() and newcomer.poll() is None
    finally:
        newcomer.kill()
        newcomer.wait()
        broker.stop()


#: A program that holds an embedded broker in a `with` block until it is killed (as the benches do).
HOLDER = """
import sys, time
from pathlib import Path
from wirewatch.streams.broker import EmbeddedBroker, free_port
from wirewatch.streams.settings import Settings
with EmbeddedBroker(Settings(), port=free_port(), log_file=Path(sys.argv[1])) as broker:
    print(broker.pid, flush=True)
    time.sleep(120)
"""


def test_sigterm_to_a_program_holding_a_broker_stops_the_broker(tmp_path: Path, leftovers: list[int]) -> None:
    """Tansu runs in its own session, so only the `with` block's exit stops it: a SIGTERM must unwind it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "tansu.log")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        tansu = int(holder.stdout.readline())
        leftovers.append(tansu)
        assert running(tansu)
        holder.send_signal(signal.SIGTERM)
        holder.wait(60)
        deadline = time.monotonic() + 30
        while running(tansu) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not running(tansu), "the broker outlived the program that started it"
    finally:
        holder.kill()
        holder.wait()
