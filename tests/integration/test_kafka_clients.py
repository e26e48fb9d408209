"""The Kafka clients subscribers use read ``news.alerts`` and ``news.incidents`` from the broker of the run
(WIREWATCH_TEST_BROKER: the embedded Tansu or Apache Kafka), with the README's own examples (README "Kafka
clients and the embedded broker")."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.readme import readme_block

from .conftest import Cluster

pytestmark = pytest.mark.integration
TOPICS = ("news.alerts", "news.incidents")
EMBEDDED = os.environ.get("WIREWATCH_TEST_BROKER", "tansu") == "tansu"


async def records(cluster: Cluster) -> dict[str, list[tuple[bytes, bytes]]]:
    """Two records on each topic, keyed by incident id as the alert agent writes them."""
    out: dict[str, list[tuple[bytes, bytes]]] = {}
    for topic in TOPICS:
        out[topic] = [
            (f"inc-{n}".encode(), orjson.dumps({"incident_id": f"inc-{n}", "severity": sev, "topic": topic}))
            for n, sev in ((1, "high"), (2, "critical"))
        ]
        await cluster.produce(list(out[topic]), topic=topic)  # type: ignore[arg-type]
    return out


def kcat(cluster: Cluster, command: str, topic: str) -> subprocess.CompletedProcess[str]:
    """The README's kcat command with this run's broker and topic."""
    args = shlex.split(command.replace("127.0.0.1:9092", cluster.bootstrap))
    args[args.index("-t") + 1] = cluster.topic(topic)
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


async def test_kcat_reads_alerts_and_incidents(cluster: Cluster) -> None:
    if shutil.which("kcat") is None:
        pytest.skip("kcat is not installed (.ci/run installs Debian's)")
    version = subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout
    sent = await records(cluster)
    command = readme_block("kcat-embedded", "sh").strip()
    for topic in TOPICS:
        done = kcat(cluster, command, topic)
        assert done.returncode == 0, done.stderr
        assert sorted(done.stdout.splitlines()) == sorted(f"{k.decode()} {v.decode()}" for k, v in sent[topic])
    # Without the flags: Debian's kcat (librdkafka 2.0.2) cannot read Tansu's ApiVersions answer; Apache
    # Kafka's it reads. The README says which; this keeps it true.
    plain = re.sub(r" -X \S+", "", command).replace("-o 0 -e", "-o beginning -e") + " -m 10"
    done = kcat(cluster, plain, "news.alerts")
    if EMBEDDED and "librdkafka 2.0.2" in version:
        assert done.returncode != 0 and "underflow" in done.stderr.lower(), done.stderr
    else:
        assert done.returncode == 0 and len(done.stdout.splitlines()) == 2, done.stderr


async def test_confluent_kafka_reads_alerts_and_incidents(cluster: Cluster, tmp_path: Path) -> None:
    script = tmp_path / "consumer.py"
    script.write_text(readme_block("alerts-consumer-confluent", "python"))
    sent = await records(cluster)

    async def read(topic: str) -> list[str]:
        group = f"{cluster.app_id}-{topic}"
        env = dict(os.environ, KAFKA_BOOTSTRAP=cluster.bootstrap, ALERTS_TOPIC=cluster.topic(topic), GROUP=group)
        proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
        try:
            return [
                await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout=60)  # type: ignore[union-attr]
                for _ in sent[topic]
            ]
        finally:
            proc.kill()
            proc.wait(10)

    # Both topics at once: joining a consumer group takes Tansu several seconds.
    lines = dict(zip(TOPICS, await asyncio.gather(*(read(topic) for topic in TOPICS)), strict=True))
    for topic in TOPICS:
        expected = [f"{k.decode()} {orjson.loads(v)['severity']}\n" for k, v in sent[topic]]
        assert sorted(lines[topic]) == sorted(expected)


async def test_aiokafka_reads_alerts_and_incidents(cluster: Cluster) -> None:
    # The README's aiokafka example itself is run by tests/integration/test_alerts.py; this is its client.
    sent = await records(cluster)
    for topic in TOPICS:
        got = await cluster.consume(topic, lambda rs: len(rs) >= 2, timeout=30)
        assert sorted(r.pop("_key") for r in got) == [b"inc-1", b"inc-2"]
        for record in got:
            del record["_received"]
        assert sorted(orjson.dumps(r) for r in got) == sorted(v for _, v in sent[topic])


async def test_java_console_consumer_reads_alerts_and_incidents(cluster: Cluster) -> None:
    # The README's bin/kafka-console-consumer.sh command, run as that script runs it: the same class from
    # the kafka-tools jars of the harness's pom (Apache Kafka 3.9.1, the broker docker-compose runs).
    from tools.kafka.harness import HarnessError, tool_command  # the harness is only for this test and CI

    command = shlex.split(
        readme_block("java-console-consumer", "sh").strip().replace("127.0.0.1:9092", cluster.bootstrap)
    )
    assert command[0] == "bin/kafka-console-consumer.sh"
    try:
        base = tool_command("kafka-console-consumer.sh")
    except HarnessError as exc:
        pytest.skip(f"Kafka's Java tools are not available here: {exc}")
    sent = await records(cluster)

    async def read(topic: str) -> subprocess.CompletedProcess[str]:
        args = list(command[1:])
        args[args.index("--topic") + 1] = cluster.topic(topic)
        # stop after the records sent (the README's command runs until Ctrl-C)
        args += ["--max-messages", str(len(sent[topic])), "--timeout-ms", "90000"]
        return await asyncio.to_thread(subprocess.run, [*base, *args], capture_output=True, text=True, timeout=150)

    # Both topics at once: each console consumer joins a consumer group of its own, slow on Tansu.
    done = dict(zip(TOPICS, await asyncio.gather(*(read(topic) for topic in TOPICS)), strict=True))
    for topic in TOPICS:
        assert done[topic].returncode == 0, done[topic].stderr[-3000:]
        expected = sorted(f"{k.decode()}\t{v.decode()}" for k, v in sent[topic])
        assert sorted(done[topic].stdout.splitlines()) == expected, done[topic].stderr[-3000:]
