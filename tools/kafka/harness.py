"""Native Apache Kafka test harness: real brokers in KRaft combined mode, no Docker.

The broker jars come from Maven Central through ``pom.xml`` (the same Kafka version that
docker-compose.yml runs) and are cached under ``~/.cache/wirewatch/kafka`` or ``$WIREWATCH_KAFKA_HOME``.
Python stdlib only, so tests and CI can import it::

    from tools.kafka.harness import KafkaCluster

    with KafkaCluster(brokers=3) as cluster:
        use(cluster.bootstrap)          # "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
        cluster.kill(2)                 # SIGKILL node 2
        cluster.restart(2)              # start it again and wait until it serves

    KafkaCluster(brokers=3, extra_properties=FAST_FAILOVER)   # leaders move ~3 s after a kill, not ~9 s
    tool_command("kafka-console-consumer.sh", [...])            # Kafka's Java console consumer, same jars

Command line::

    python tools/kafka/harness.py fetch
    python tools/kafka/harness.py start --brokers 3 [--base-port 39092] [--data-dir DIR] [--heap 512m]
    python tools/kafka/harness.py kill-broker 2 | start-broker 2 | status | stop   [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
LOG4J = HERE / "log4j.properties"
TOOLS_LOG4J = HERE / "tools-log4j.properties"
STATE_FILE = "cluster.json"
DEFAULT_BASE_PORT = 39092
# Controller ports sit this far above the broker ports so both ranges stay contiguous and readable.
CONTROLLER_PORT_OFFSET = 100
DEFAULT_HEAP = "512m"
LOOPBACK = "127.0.0.1"
KAFKA_MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
# What bin/kafka-console-consumer.sh runs since Kafka 3.7 (artifact kafka-tools; the core jar's
# kafka.tools.ConsoleConsumer is gone).
CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"
BIN_SCRIPTS = {"kafka-console-consumer.sh": CONSOLE_CONSUMER}

# Settings that docker-compose.yml must carry too (as KAFKA_* environment variables) for a single node;
# tests/unit/test_harness_config.py checks that both agree.
MIRRORED_SETTINGS = (
    "process.roles",
    "auto.create.topics.enable",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "default.replication.factor",
    "min.insync.replicas",
)
# Settings only the tests want: they trade a user's defaults for fast, deterministic test runs.
TEST_ONLY_SETTINGS = {
    # Consumers of a fresh group get partitions at once instead of after 3 s.
    "group.initial.rebalance.delay.ms": "0",
}

# Opt-in for failure tests: the controller fences a SIGKILLed broker after 3 s instead of 9 s, so
# partition leadership moves (and acks=all produce resumes) about 3 s after a kill rather than 8-9 s.
# Not the default: on a busy 2-core machine a GC or scheduling stall could then fence a healthy broker.
FAST_FAILOVER = {
    "broker.session.timeout.ms": "3000",
    "broker.heartbeat.interval.ms": "500",
}


class HarnessError(RuntimeError):
    """The harness could not fetch, start or reach Kafka."""


# --------------------------------------------------------------------------------------------------
# Version, cache and fetch


def kafka_version(pom: Path = POM) -> str:
    """The Kafka version pinned in ``pom.xml`` (property ``kafka.version``)."""
    root = ET.parse(pom).getroot()
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = root.find("m:properties/m:kafka.version", ns)
    if node is None or not (node.text or "").strip():
        raise HarnessError(f"{pom}: no <kafka.version> property")
    return node.text.strip()


def cache_home() -> Path:
    """Where fetched jars live: ``$WIREWATCH_KAFKA_HOME`` or ``~/.cache/wirewatch/kafka``."""
    env = os.environ.get("WIREWATCH_KAFKA_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "wirewatch" / "kafka"


def libs_dir(version: str | None = None) -> Path:
    """The directory holding the broker's runtime jars for ``version`` (default: the pom's)."""
    return cache_home() / f"kafka-{version or kafka_version()}" / "libs"


def pom_digest(pom: Path = POM) -> str:
    """SHA-256 of ``pom.xml``: a cache fetched for another dependency list is not complete."""
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def manifest_text(jars: Sequence[str], pom: Path = POM) -> str:
    """The ``.complete`` manifest a finished fetch writes: the pom's digest, then one jar a line."""
    return f"pom-sha256 {pom_digest(pom)}\n" + "".join(f"{j}\n" for j in jars)


def _libs_complete(libs: Path) -> bool:
    """True when a previous fetch of this very pom finished: its manifest names the pom's digest and lists
    only jars still present (a pom that gained an artifact, say kafka-tools, fetches again)."""
    manifest = libs / ".complete"
    if not manifest.is_file():
        return False
    lines = [n for n in manifest.read_text().splitlines() if n]
    if not lines or lines[0] != f"pom-sha256 {pom_digest()}":
        return False
    names = lines[1:]
    return bool(names) and all((libs / n).is_file() for n in names)


def fetch(force: bool = False, quiet: bool = True) -> Path:
    """Copy Kafka's runtime jars from Maven Central into the cache (skipped when already complete)."""
    libs = libs_dir()
    if not force and _libs_complete(libs):
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise HarnessError(
            "Maven (mvn) is needed to fetch the Kafka jars; install it, or point "
            "WIREWATCH_KAFKA_HOME at a cache that already holds them"
        )
    # Download into a sibling directory first so that an interrupted fetch never looks complete.
    tmp = libs.with_name("libs.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        mvn,
        "-B",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={tmp}",
    ]
    if quiet:
        cmd.insert(1, "-q")
    done = subprocess.run(cmd, check=False, capture_output=quiet, text=True)
    if done.returncode != 0:
        detail = (done.stdout or "")[-2000:] + (done.stderr or "")[-2000:] if quiet else ""
        raise HarnessError(f"mvn failed with exit code {done.returncode}\n{detail}")
    jars = sorted(p.name for p in tmp.glob("*.jar"))
    if not any(j.startswith("kafka_2.13-") for j in jars):
        raise HarnessError(f"mvn finished but {tmp} holds no kafka_2.13 jar")
    (tmp / ".complete").write_text(manifest_text(jars))
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    return libs


def tool_command(script: str, args: Sequence[str] = (), java: str = "java", libs: Path | None = None) -> list[str]:
    """The java command that Kafka's ``bin/<script>`` runs, with the cached jars (fetched first if need be):
    ``tool_command("kafka-console-consumer.sh", ["--bootstrap-server", ...])``."""
    if script not in BIN_SCRIPTS:
        raise HarnessError(f"no tool {script!r} here; known: {', '.join(sorted(BIN_SCRIPTS))}")
    if shutil.which(java) is None:
        raise HarnessError(f"no {java!r} on PATH: Kafka's tools need a JDK/JRE 11+")
    libs = libs or fetch()
    return [
        java,
        "-Xmx256m",
        "-Djava.awt.headless=true",
        f"-Dlog4j.configuration=file:{TOOLS_LOG4J}",
        "-cp",
        f"{libs}/*",
        BIN_SCRIPTS[script],
        *args,
    ]


# --------------------------------------------------------------------------------------------------
# Broker configuration (pure functions)


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 characters).

    Like Kafka's own ``Uuid.randomUuid`` it never starts with '-', which a command line would
    mistake for an option.
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


def is_cluster_id(value: str) -> bool:
    """True when ``value`` is a valid KRaft cluster id (22 base64url characters, 16 bytes)."""
    if len(value) != 22:
        return False
    try:
        return len(base64.urlsafe_b64decode(value + "==")) == 16
    except ValueError:
        return False


def cluster_settings(brokers: int) -> dict[str, str]:
    """Replication and topic settings for a cluster of ``brokers`` combined broker+controller nodes."""
    if brokers < 1:
        raise ValueError("a cluster needs at least one broker")
    rf = min(3, brokers)
    min_isr = 2 if brokers >= 3 else 1
    return {
        "process.roles": "broker,controller",
        # Topics are created by `wirewatch run` with their partition counts; a typo must fail, not
        # silently create a one-partition topic.
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": str(rf),
        "transaction.state.log.replication.factor": str(rf),
        "transaction.state.log.min.isr": str(min_isr),
        "default.replication.factor": str(rf),
        "min.insync.replicas": str(min_isr),
        **TEST_ONLY_SETTINGS,
    }


def server_properties(
    node_id: int, broker_ports: Sequence[int], controller_ports: Sequence[int], log_dir: Path
) -> dict[str, str]:
    """The server.properties of node ``node_id`` (1-based) in a loopback-only combined-mode cluster."""
    n = len(broker_ports)
    if len(controller_ports) != n or not 1 <= node_id <= n:
        raise ValueError("one broker port and one controller port per node; node ids are 1..n")
    voters = ",".join(f"{i}@{LOOPBACK}:{controller_ports[i - 1]}" for i in range(1, n + 1))
    port, cport = broker_ports[node_id - 1], controller_ports[node_id - 1]
    return {
        "node.id": str(node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{cport}",
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "log.dirs": str(log_dir),
        **cluster_settings(n),
    }


def render_properties(props: dict[str, str]) -> str:
    """``key=value`` lines; values here never hold characters that .properties would need escaped."""
    return "".join(f"{k}={v}\n" for k, v in props.items())


def parse_heap(heap: str) -> str:
    """Validate a JVM heap size like ``512m`` or ``1g`` and return it lower-cased."""
    h = heap.strip().lower()
    if not (h[:-1].isdigit() and h[-1] in "kmg") and not h.isdigit():
        raise ValueError(f"not a JVM heap size: {heap!r} (e.g. 384m, 512m, 1g)")
    return h


# --------------------------------------------------------------------------------------------------
# Minimal Kafka wire protocol: enough to tell that a broker serves requests


API_VERSIONS, METADATA = 18, 3
CLIENT_ID = "wirewatch-harness"


def encode_request(
    api_key: int, api_version: int, correlation_id: int, body: bytes = b"", client_id: str = CLIENT_ID
) -> bytes:
    """A size-prefixed request with a v1 header (non-flexible versions only)."""
    cid = client_id.encode()
    header = struct.pack(">hhih", api_key, api_version, correlation_id, len(cid)) + cid
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def api_versions_request(correlation_id: int) -> bytes:
    """ApiVersions v0: empty body, accepted by every broker since 0.10 and still in 4.x."""
    return encode_request(API_VERSIONS, 0, correlation_id)


def metadata_request(correlation_id: int) -> bytes:
    """Metadata v4 for all topics without auto-creation (v4 is the oldest version Kafka 4.x keeps)."""
    return encode_request(METADATA, 4, correlation_id, struct.pack(">ib", -1, 0))


class _Reader:
    """Sequential big-endian reader over a response payload."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str | None:
        n = self.take(">h")
        if n < 0:
            return None
        s = self.data[self.pos : self.pos + n].decode()
        self.pos += n
        return s


def parse_api_versions_response(payload: bytes, correlation_id: int) -> dict[int, tuple[int, int]]:
    """Map api key -> (min, max) version from an ApiVersions v0 response (without the size prefix)."""
    r = _Reader(payload)
    if r.take(">i") != correlation_id:
        raise HarnessError("ApiVersions: correlation id mismatch")
    error = r.take(">h")
    if error != 0:
        raise HarnessError(f"ApiVersions: error code {error}")
    apis = {}
    for _ in range(r.take(">i")):
        key, lo, hi = r.take(">h"), r.take(">h"), r.take(">h")
        apis[key] = (lo, hi)
    return apis


@dataclass(frozen=True)
class MetadataInfo:
    """What a Metadata response says about the cluster."""

    brokers: tuple[tuple[int, str, int], ...]  # (node id, host, port), unfenced brokers only
    cluster_id: str | None
    controller_id: int


def parse_metadata_response(payload: bytes, correlation_id: int) -> MetadataInfo:
    """Brokers, cluster id and controller from a Metadata v4 response (topics are ignored)."""
    r = _Reader(payload)
    if r.take(">i") != correlation_id:
        raise HarnessError("Metadata: correlation id mismatch")
    r.take(">i")  # throttle_time_ms
    brokers = []
    for _ in range(r.take(">i")):
        node_id, host, port = r.take(">i"), r.string() or "", r.take(">i")
        r.string()  # rack
        brokers.append((node_id, host, port))
    cluster_id = r.string()
    controller_id = r.take(">i")
    return MetadataInfo(tuple(sorted(brokers)), cluster_id, controller_id)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return bytes(buf)


def _roundtrip(sock: socket.socket, request: bytes) -> bytes:
    sock.sendall(request)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    return _recv_exact(sock, size)


def probe(host: str, port: int, timeout: float = 2.0) -> MetadataInfo | None:
    """Ask a broker for ApiVersions then Metadata; None while it does not serve requests yet.

    A KRaft broker opens its client listener only once it has caught up with the metadata log and
    been unfenced, so an answer here means it can take produce and fetch requests.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            apis = parse_api_versions_response(_roundtrip(sock, api_versions_request(1)), 1)
            if METADATA not in apis:
                return None
            return parse_metadata_response(_roundtrip(sock, metadata_request(2)), 2)
    except (OSError, HarnessError, struct.error):
        return None


# --------------------------------------------------------------------------------------------------
# Processes


# The same check as wirewatch.streams.broker.port_is_free, kept here: the harness is stdlib-only (no wirewatch).
def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def _free_ports(count: int) -> list[int]:
    """Ports the OS picks as free now (a small race with other processes is accepted)."""
    socks, ports = [], []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _pdeathsig_hook() -> Callable[[], None] | None:
    """A child-side hook that has Linux SIGKILL the broker when the Python process that started it dies.

    Keeps a crashed or killed pytest run from leaving JVMs behind. libc is resolved here, in the
    parent, so the child runs no import between fork and exec. Linux ties the signal to the *thread*
    that forked, so start brokers from the main thread (or a thread that outlives them).
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux/glibc: no orphan protection
        return None

    def hook() -> None:
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1

    return hook


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is dead for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB (Linux), None when unknown."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


@dataclass
class Node:
    """One combined broker+controller process."""

    node_id: int
    port: int
    controller_port: int
    dir: Path
    pid: int | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def properties_file(self) -> Path:
        return self.dir / "server.properties"

    @property
    def log_file(self) -> Path:
        return self.dir / "server.log"

    def alive(self) -> bool:
        """Running, and (when we did not start it in this process) really our broker, not a reused pid."""
        if self.proc is not None:
            return self.proc.poll() is None
        if self.pid is None or not _pid_alive(self.pid):
            return False
        return str(self.properties_file) in _cmdline(self.pid)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class KafkaCluster:
    """A throwaway Apache Kafka cluster on loopback: ``brokers`` nodes in KRaft combined mode.

    ``base_port`` None picks free ports (safe for parallel test runs); otherwise node i listens on
    ``base_port + i - 1`` and its controller on that plus 100. ``data_dir`` None uses a temporary
    directory removed by :meth:`stop`. ``die_with_parent`` (Linux) kills the brokers when this
    process dies, so a crashed test run leaves no JVM behind; the CLI turns it off to detach.
    """

    def __init__(
        self,
        brokers: int = 1,
        *,
        base_port: int | None = None,
        data_dir: str | Path | None = None,
        heap: str = DEFAULT_HEAP,
        java: str = "java",
        libs: Path | None = None,
        ready_timeout: float = 90.0,
        die_with_parent: bool = True,
        extra_properties: dict[str, str] | None = None,
    ) -> None:
        if brokers < 1:
            raise ValueError("brokers must be >= 1")
        self.brokers = brokers
        self.base_port = base_port
        self.heap = parse_heap(heap)
        self.java = java
        self.libs = libs
        self.ready_timeout = ready_timeout
        self.die_with_parent = die_with_parent
        self.extra_properties = dict(extra_properties or {})
        self._owns_dir = data_dir is None
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self.cluster_id = ""
        self.nodes: list[Node] = []
        self.startup_seconds: float | None = None

    # -- public API ---------------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """Comma-separated ``host:port`` of every node, for any Kafka client."""
        return ",".join(f"{LOOPBACK}:{n.port}" for n in self.nodes)

    def node(self, n: int) -> Node:
        """Node ``n`` (1-based, as in node.id)."""
        if not 1 <= n <= len(self.nodes):
            raise HarnessError(f"no node {n}: the cluster has nodes 1..{len(self.nodes)}")
        return self.nodes[n - 1]

    def start(self) -> KafkaCluster:
        """Fetch jars if needed, format storage, start every node and wait until all serve requests."""
        t0 = time.monotonic()
        self.libs = self.libs or fetch()
        if shutil.which(self.java) is None:
            raise HarnessError(f"no {self.java!r} on PATH: the Kafka broker needs a JDK/JRE 11+")
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="wirewatch-kafka-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._refuse_if_running()
        try:
            self._plan_nodes()
            self.cluster_id = new_cluster_id()
            self._format_all()
            for node in self.nodes:
                self._launch(node)
            self.write_state()
            if self.die_with_parent:
                atexit.register(self.stop)
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        self.write_state()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every node and remove a temporary data dir.

        SIGTERM goes to all nodes at once, so the controller quorum outlives their controlled shutdowns;
        nodes still running after ``timeout`` seconds get SIGKILL.
        """
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        live = [n for n in self.nodes if n.alive()]
        # Without a controller majority a broker's controlled shutdown cannot finish (it waits for the
        # controller until the timeout), so skip straight to SIGKILL.
        if len(live) > len(self.nodes) // 2:
            for node in live:
                self._signal(node, signal.SIGTERM)
            self._wait_dead(live, timeout)
        for node in live:
            if node.alive():
                self._signal(node, signal.SIGKILL)
        self._wait_dead(live, 10.0)
        for node in self.nodes:
            node.pid, node.proc = None, None
        if self.data_dir is not None:
            if self._owns_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)
            else:
                (self.data_dir / STATE_FILE).unlink(missing_ok=True)

    def kill(self, n: int, sig: int = signal.SIGKILL, timeout: float = 30.0) -> None:
        """Stop node ``n``: SIGKILL (a crash, the default) or SIGTERM (a clean shutdown); waits for exit."""
        node = self.node(n)
        if node.alive():
            self._signal(node, sig)
            self._wait_dead([node], timeout)
            if node.alive():
                self._signal(node, signal.SIGKILL)
                self._wait_dead([node], 10.0)
        node.pid, node.proc = None, None
        self.write_state()

    def restart(self, n: int) -> None:
        """Start node ``n`` again (stopping it first if it still runs) and wait until the cluster is whole."""
        node = self.node(n)
        if node.alive():
            self.kill(n, signal.SIGTERM)
        self._launch(node)
        self.write_state()
        self.wait_ready()

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until every running node answers and the metadata lists all of them as live brokers."""
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        pending = [n for n in self.nodes if n.pid is not None]
        while True:
            for node in pending:
                if not node.alive():
                    raise HarnessError(f"broker {node.node_id} exited during start-up; log tail:\n{node.log_tail()}")
            infos = [probe(LOOPBACK, node.port) for node in pending]
            if all(info is not None for info in infos):
                want = {node.node_id for node in pending}
                if all({b[0] for b in info.brokers} >= want for info in infos if info is not None):
                    return
            if time.monotonic() > deadline:
                slow = [n.node_id for n, i in zip(pending, infos, strict=True) if i is None]
                raise HarnessError(
                    f"Kafka not ready after {timeout or self.ready_timeout:.0f}s "
                    f"(not answering: {slow or 'none; metadata incomplete'}); "
                    f"logs in {self.data_dir}/node-*/server.log"
                )
            time.sleep(0.25)

    def pids(self) -> dict[int, int | None]:
        """Node id -> pid (None when the node is down)."""
        return {n.node_id: (n.pid if n.alive() else None) for n in self.nodes}

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- state file (for the CLI, whose commands run in separate processes) -------------------------

    def state(self) -> dict[str, object]:
        """What ``cluster.json`` records: enough for another process to stop or restart nodes."""
        return {
            "kafka_version": kafka_version(),
            "cluster_id": self.cluster_id,
            "brokers": self.brokers,
            "heap": self.heap,
            "java": self.java,
            "libs": str(self.libs),
            "bootstrap": self.bootstrap,
            "startup_seconds": self.startup_seconds,
            "nodes": [
                {
                    "node_id": n.node_id,
                    "port": n.port,
                    "controller_port": n.controller_port,
                    "dir": str(n.dir),
                    "pid": n.pid,
                }
                for n in self.nodes
            ],
        }

    def write_state(self) -> None:
        if self.data_dir is not None:
            tmp = self.data_dir / (STATE_FILE + ".tmp")
            tmp.write_text(json.dumps(self.state(), indent=2) + "\n")
            tmp.replace(self.data_dir / STATE_FILE)

    @classmethod
    def attach(cls, data_dir: str | Path) -> KafkaCluster:
        """A handle on a cluster that another process started with its data in ``data_dir``."""
        path = Path(data_dir).resolve() / STATE_FILE
        if not path.is_file():
            raise HarnessError(f"no running cluster recorded in {path}")
        st = json.loads(path.read_text())
        cluster = cls(
            st["brokers"],
            data_dir=path.parent,
            heap=st["heap"],
            java=st["java"],
            libs=Path(st["libs"]),
            die_with_parent=False,
        )
        cluster.cluster_id = st["cluster_id"]
        cluster.startup_seconds = st.get("startup_seconds")
        cluster.nodes = [
            Node(d["node_id"], d["port"], d["controller_port"], Path(d["dir"]), d["pid"]) for d in st["nodes"]
        ]
        return cluster

    # -- internals ----------------------------------------------------------------------------------

    def _refuse_if_running(self) -> None:
        assert self.data_dir is not None
        if not (self.data_dir / STATE_FILE).is_file():
            return
        try:
            other = KafkaCluster.attach(self.data_dir)
        except (HarnessError, KeyError, ValueError):  # unreadable leftovers: start afresh
            return
        if any(n.alive() for n in other.nodes):
            raise HarnessError(f"a cluster already runs from {self.data_dir} ({other.bootstrap}); stop it first")

    def _plan_nodes(self) -> None:
        assert self.data_dir is not None
        n = self.brokers
        if self.base_port is None:
            ports = _free_ports(2 * n)
            broker_ports, controller_ports = ports[:n], ports[n:]
        else:
            broker_ports = [self.base_port + i for i in range(n)]
            controller_ports = [p + CONTROLLER_PORT_OFFSET for p in broker_ports]
            taken = [p for p in broker_ports + controller_ports if not _port_free(p)]
            if taken:
                raise HarnessError(f"ports already in use on {LOOPBACK}: {taken}")
        self.nodes = []
        for i in range(1, n + 1):
            node_dir = self.data_dir / f"node-{i}"
            # A fresh cluster every start: old logs would belong to another cluster id.
            shutil.rmtree(node_dir, ignore_errors=True)
            (node_dir / "data").mkdir(parents=True)
            props = server_properties(i, broker_ports, controller_ports, node_dir / "data")
            props.update(self.extra_properties)
            node = Node(i, broker_ports[i - 1], controller_ports[i - 1], node_dir)
            node.properties_file.write_text(render_properties(props))
            self.nodes.append(node)

    def _jvm(self, heap: str, node_dir: Path) -> list[str]:
        return [
            self.java,
            f"-Xmx{heap}",
            f"-Xms{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{LOG4J}",
            f"-Dkafka.logs.dir={node_dir}",
            "-cp",
            f"{self.libs}/*",
        ]

    def _format_all(self) -> None:
        """`kafka-storage format -t <cluster id> -c server.properties` for every node, in parallel."""
        procs = []
        for node in self.nodes:
            cmd = [
                *self._jvm("128m", node.dir),
                STORAGE_TOOL,
                "format",
                "-t",
                self.cluster_id,
                "-c",
                str(node.properties_file),
            ]
            procs.append((node, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
        for node, proc in procs:
            out, _ = proc.communicate(timeout=120)
            if proc.returncode != 0:
                detail = out.decode(errors="replace")
                raise HarnessError(f"storage format failed for node {node.node_id}:\n{detail}")

    def _launch(self, node: Node) -> None:
        cmd = [*self._jvm(self.heap, node.dir), KAFKA_MAIN, str(node.properties_file)]
        with open(node.log_file, "ab") as log:
            node.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=node.dir,
                start_new_session=True,  # Ctrl-C in a terminal reaches the harness, not the brokers
                # The hook only calls prctl, which is async-signal-safe, so threads in this process are fine.
                preexec_fn=_pdeathsig_hook() if self.die_with_parent else None,
            )
        node.pid = node.proc.pid

    def _signal(self, node: Node, sig: int) -> None:
        if node.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(node.pid, sig)

    @staticmethod
    def _wait_dead(nodes: Sequence[Node], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while any(n.alive() for n in nodes) and time.monotonic() < deadline:
            time.sleep(0.1)


# --------------------------------------------------------------------------------------------------
# Command line


def default_data_dir() -> Path:
    """Where the CLI keeps a cluster when --data-dir is not given."""
    return cache_home() / "cluster"


def _cmd_fetch(args: argparse.Namespace) -> None:
    t0 = time.monotonic()
    libs = fetch(force=args.force, quiet=not args.verbose)
    print(f"kafka {kafka_version()} jars in {libs} ({time.monotonic() - t0:.1f}s)", file=sys.stderr)
    print(libs)


def _cmd_start(args: argparse.Namespace) -> None:
    cluster = KafkaCluster(
        args.brokers,
        base_port=args.base_port,
        data_dir=args.data_dir,
        heap=args.heap,
        ready_timeout=args.timeout,
        die_with_parent=False,
    )
    cluster.start()
    print(
        f"kafka {kafka_version()}: {args.brokers} node(s) ready in {cluster.startup_seconds:.1f}s, "
        f"pids {list(cluster.pids().values())}, data in {cluster.data_dir}",
        file=sys.stderr,
    )
    print(cluster.bootstrap)


def _cmd_stop(args: argparse.Namespace) -> None:
    try:
        cluster = KafkaCluster.attach(args.data_dir)
    except HarnessError as exc:
        print(f"nothing to stop: {exc}", file=sys.stderr)
        return
    t0 = time.monotonic()
    cluster.stop(timeout=args.timeout)
    print(f"stopped {cluster.brokers} node(s) in {time.monotonic() - t0:.1f}s", file=sys.stderr)


def _cmd_kill(args: argparse.Namespace) -> None:
    cluster = KafkaCluster.attach(args.data_dir)
    cluster.kill(args.node, signal.SIGTERM if args.graceful else signal.SIGKILL)
    print(f"node {args.node} down; bootstrap {cluster.bootstrap}", file=sys.stderr)


def _cmd_start_broker(args: argparse.Namespace) -> None:
    cluster = KafkaCluster.attach(args.data_dir)
    cluster.ready_timeout = args.timeout
    cluster.restart(args.node)
    print(cluster.bootstrap)


def _cmd_status(args: argparse.Namespace) -> None:
    cluster = KafkaCluster.attach(args.data_dir)
    nodes = []
    for node in cluster.nodes:
        alive = node.alive()
        info = probe(LOOPBACK, node.port) if alive else None
        nodes.append(
            {
                "node": node.node_id,
                "port": node.port,
                "pid": node.pid if alive else None,
                "alive": alive,
                "serving": info is not None,
                "rss_mb": round(rss_mb(node.pid) or 0, 1) if alive and node.pid else None,
            }
        )
    print(json.dumps({"bootstrap": cluster.bootstrap, "cluster_id": cluster.cluster_id, "nodes": nodes}, indent=2))


def build_parser() -> argparse.ArgumentParser:
    """The harness's command line (see the module docstring)."""
    p = argparse.ArgumentParser(prog="harness.py", description="Native Apache Kafka for wirewatch tests")
    sub = p.add_subparsers(dest="command", required=True)

    f = sub.add_parser("fetch", help="download the Kafka jars (cached)")
    f.add_argument("--force", action="store_true", help="download again even when cached")
    f.add_argument("--verbose", action="store_true", help="show Maven's output")
    f.set_defaults(func=_cmd_fetch)

    def data_dir_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--data-dir",
            type=Path,
            default=default_data_dir(),
            help=f"cluster directory (default {default_data_dir()})",
        )

    s = sub.add_parser("start", help="start a cluster; prints the bootstrap servers last")
    s.add_argument("--brokers", type=int, default=1, choices=(1, 3))
    s.add_argument(
        "--base-port",
        type=int,
        default=DEFAULT_BASE_PORT,
        help=f"port of node 1; controllers use +{CONTROLLER_PORT_OFFSET}",
    )
    s.add_argument("--heap", default=DEFAULT_HEAP, help="JVM heap per broker (e.g. 384m for 3 brokers)")
    s.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for readiness")
    data_dir_arg(s)
    s.set_defaults(func=_cmd_start)

    st = sub.add_parser("stop", help="stop the cluster (SIGTERM, then SIGKILL after --timeout)")
    st.add_argument("--timeout", type=float, default=30.0)
    data_dir_arg(st)
    st.set_defaults(func=_cmd_stop)

    k = sub.add_parser("kill-broker", help="SIGKILL node N (crash), or SIGTERM with --graceful")
    k.add_argument("node", type=int)
    k.add_argument("--graceful", action="store_true")
    data_dir_arg(k)
    k.set_defaults(func=_cmd_kill)

    r = sub.add_parser("start-broker", help="start node N again and wait until the cluster is whole")
    r.add_argument("node", type=int)
    r.add_argument("--timeout", type=float, default=90.0)
    data_dir_arg(r)
    r.set_defaults(func=_cmd_start_broker)

    a = sub.add_parser("status", help="print the nodes, their pids and RSS as JSON")
    data_dir_arg(a)
    a.set_defaults(func=_cmd_status)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (HarnessError, ValueError) as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
