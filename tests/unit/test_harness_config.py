"""The Kafka test harness and docker-compose.yml agree, and the harness's pure parts work (no JVM)."""

from __future__ import annotations

import re
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.kafka import harness
from tools.kafka.harness import (
    DEFAULT_HEAP,
    MIRRORED_SETTINGS,
    HarnessError,
    cluster_settings,
    is_cluster_id,
    kafka_version,
    new_cluster_id,
    server_properties,
)

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kafka_env(compose: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in compose["services"]["kafka"]["environment"].items()}


def env_name(key: str) -> str:
    """The apache/kafka image's environment variable for a server property."""
    return "KAFKA_" + key.upper().replace(".", "_")


# ---- docker-compose.yml mirrors the harness --------------------------------------------------------


def test_compose_runs_the_kafka_version_the_pom_pins(compose: dict[str, Any]) -> None:
    image = compose["services"]["kafka"]["image"]
    assert image.startswith("apache/kafka:")
    assert image.split(":", 1)[1] == kafka_version()


def test_pom_version_is_a_release_number() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", kafka_version())


@pytest.mark.parametrize("key", MIRRORED_SETTINGS)
def test_compose_mirrors_single_node_harness_setting(kafka_env: dict[str, str], key: str) -> None:
    assert kafka_env[env_name(key)] == cluster_settings(1)[key]


def test_compose_heap_matches_harness_default(kafka_env: dict[str, str]) -> None:
    opts = kafka_env["KAFKA_HEAP_OPTS"].split()
    assert f"-Xmx{DEFAULT_HEAP}" in opts
    assert f"-Xms{DEFAULT_HEAP}" in opts


def test_compose_kraft_identity(kafka_env: dict[str, str]) -> None:
    assert is_cluster_id(kafka_env["CLUSTER_ID"])
    node_id = kafka_env["KAFKA_NODE_ID"]
    voters = kafka_env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert [v.split("@")[0] for v in voters] == [node_id]
    controller_port = voters[0].rsplit(":", 1)[1]
    assert f"CONTROLLER://:{controller_port}" in kafka_env["KAFKA_LISTENERS"].split(",")


def test_worker_and_ui_use_the_advertised_internal_listener(compose: dict[str, Any], kafka_env: dict[str, str]) -> None:
    advertised = dict(item.split("://") for item in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    internal = advertised[kafka_env["KAFKA_INTER_BROKER_LISTENER_NAME"]]
    assert internal == "kafka:29092"
    worker_env = compose["services"]["worker"]["environment"]
    assert worker_env["WIREWATCH_BROKER"] == f"kafka://{internal}"
    ui_env = compose["services"]["kafka-ui"]["environment"]
    assert ui_env["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"] == internal
    assert compose["services"]["worker"]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_host_listener_is_published_on_loopback(compose: dict[str, Any], kafka_env: dict[str, str]) -> None:
    advertised = kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    assert "PLAINTEXT_HOST://localhost:9092" in advertised.split(",")
    assert "127.0.0.1:9092:9092" in compose["services"]["kafka"]["ports"]


def test_every_published_port_binds_loopback(compose: dict[str, Any]) -> None:
    published = [p for svc in compose["services"].values() for p in svc.get("ports", [])]
    assert published, "compose publishes no port at all"
    assert all(str(p).startswith("127.0.0.1:") for p in published), published


def test_healthcheck_asks_the_broker_for_api_versions(compose: dict[str, Any]) -> None:
    test = " ".join(compose["services"]["kafka"]["healthcheck"]["test"])
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092" in test


def test_worker_web_port_is_published_and_exposed(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    port = str(worker["environment"]["WIREWATCH_WEB_PORT"])
    assert worker["environment"]["WIREWATCH_WEB_HOST"] == "0.0.0.0"
    assert f"127.0.0.1:{port}:{port}" in worker["ports"]
    assert re.search(rf"^EXPOSE {port}$", DOCKERFILE.read_text(), re.M)


# ---- Dockerfile -------------------------------------------------------------------------------------


def test_dockerfile_builds_a_non_root_wirewatch_image() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert re.search(r"^RUN pip install \.", text, re.M)
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r'^ENTRYPOINT \["wirewatch"\]$', text, re.M)
    assert re.search(r'^CMD \["run"\]$', text, re.M)


def test_dockerfile_copies_what_pyproject_builds_from() -> None:
    copied = set(re.findall(r"^COPY (\S+)/ ", DOCKERFILE.read_text(), re.M))
    pyproject = (REPO / "pyproject.toml").read_text()
    mapped = set(re.findall(r'^"wirewatch\.\w+" = "(\w+)"$', pyproject, re.M))
    assert mapped and mapped <= copied
    assert "wirewatch" in copied
    assert re.search(r"^COPY pyproject\.toml README\.md \./$", DOCKERFILE.read_text(), re.M)


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "**/__pycache__"):
        assert entry in ignored


# ---- cluster configuration --------------------------------------------------------------------------


def test_three_node_cluster_replicates_and_requires_two_in_sync(tmp_path: Path) -> None:
    props = server_properties(2, [39092, 39093, 39094], [39192, 39193, 39194], tmp_path)
    assert props["node.id"] == "2"
    assert props["process.roles"] == "broker,controller"
    assert props["default.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["offsets.topic.replication.factor"] == "3"
    assert props["transaction.state.log.min.isr"] == "2"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:39192,2@127.0.0.1:39193,3@127.0.0.1:39194"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:39093,CONTROLLER://127.0.0.1:39193"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:39093"
    assert props["log.dirs"] == str(tmp_path)


def test_single_node_cluster_never_asks_for_more_replicas_than_it_has() -> None:
    settings = cluster_settings(1)
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "default.replication.factor",
        "min.insync.replicas",
    ):
        assert settings[key] == "1", key
    assert settings["auto.create.topics.enable"] == "false"
    assert settings["group.initial.rebalance.delay.ms"] == "0"


def test_bad_node_layouts_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        server_properties(4, [1, 2, 3], [4, 5, 6], tmp_path)
    with pytest.raises(ValueError):
        server_properties(1, [1, 2], [4], tmp_path)
    with pytest.raises(ValueError):
        cluster_settings(0)


def test_properties_render_one_key_per_line() -> None:
    text = harness.render_properties({"a.b": "1", "c": "x,y"})
    assert text.splitlines() == ["a.b=1", "c=x,y"]


def test_cluster_ids_are_valid_and_fresh() -> None:
    ids = {new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(is_cluster_id(i) and not i.startswith("-") for i in ids)
    assert not is_cluster_id("short")
    assert not is_cluster_id("!" * 22)


@pytest.mark.parametrize(
    ("heap", "ok"), [("512m", True), ("1G", True), ("384m", True), ("lots", False), ("m", False), ("512mb", False)]
)
def test_heap_sizes_are_checked(heap: str, ok: bool) -> None:
    if ok:
        assert harness.parse_heap(heap) == heap.lower()
    else:
        with pytest.raises(ValueError):
            harness.parse_heap(heap)


def test_cli_defaults_match_the_documented_ports_and_heap() -> None:
    args = harness.build_parser().parse_args(["start", "--brokers", "3"])
    assert (args.brokers, args.base_port, args.heap) == (3, 39092, "512m")
    with pytest.raises(SystemExit):
        harness.build_parser().parse_args(["start", "--brokers", "2"])


# ---- jar cache ---------------------------------------------------------------------------------------


def test_fetch_skips_maven_when_the_cache_is_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREWATCH_KAFKA_HOME", str(tmp_path))
    libs = harness.libs_dir()
    assert libs == tmp_path / f"kafka-{kafka_version()}" / "libs"
    libs.mkdir(parents=True)
    jars = ["kafka_2.13-x.jar", "kafka-clients-x.jar"]
    for jar in jars:
        (libs / jar).write_bytes(b"PK")
    (libs / ".complete").write_text(harness.manifest_text(jars))
    monkeypatch.setattr(harness.shutil, "which", lambda _name: None)  # any mvn call would now fail
    assert harness.fetch() == libs


def test_fetch_refetches_when_the_pom_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A cache fetched before the pom gained kafka-tools lacks the console consumer: it must not count.
    monkeypatch.setenv("WIREWATCH_KAFKA_HOME", str(tmp_path))
    libs = harness.libs_dir()
    libs.mkdir(parents=True)
    (libs / "kafka_2.13-x.jar").write_bytes(b"PK")
    old_pom = tmp_path / "old-pom.xml"
    old_pom.write_text("<project/>")
    (libs / ".complete").write_text(harness.manifest_text(["kafka_2.13-x.jar"], pom=old_pom))
    monkeypatch.setattr(harness.shutil, "which", lambda _name: None)
    with pytest.raises(HarnessError, match="mvn"):
        harness.fetch()
    (libs / ".complete").write_text("kafka_2.13-x.jar\n")  # a manifest from before manifests named the pom
    with pytest.raises(HarnessError, match="mvn"):
        harness.fetch()


def test_fetch_refetches_when_a_jar_went_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREWATCH_KAFKA_HOME", str(tmp_path))
    libs = harness.libs_dir()
    libs.mkdir(parents=True)
    (libs / ".complete").write_text("kafka_2.13-x.jar\n")  # listed, but not there
    monkeypatch.setattr(harness.shutil, "which", lambda _name: None)
    with pytest.raises(HarnessError, match="mvn"):
        harness.fetch()


# ---- wire protocol against a fake broker ---------------------------------------------------------------


def test_api_versions_request_bytes() -> None:
    req = harness.api_versions_request(7)
    client = harness.CLIENT_ID.encode()
    assert req == struct.pack(">ihhih", 10 + len(client), 18, 0, 7, len(client)) + client


def _kstr(s: str | None) -> bytes:
    return struct.pack(">h", -1) if s is None else struct.pack(">h", len(s)) + s.encode()


def api_versions_response(corr: int, apis: dict[int, tuple[int, int]]) -> bytes:
    body = struct.pack(">ihi", corr, 0, len(apis))
    return body + b"".join(struct.pack(">hhh", k, lo, hi) for k, (lo, hi) in apis.items())


def metadata_response(corr: int, brokers: list[tuple[int, str, int]], cluster_id: str) -> bytes:
    body = struct.pack(">iii", corr, 0, len(brokers))
    for node_id, host, port in brokers:
        body += struct.pack(">i", node_id) + _kstr(host) + struct.pack(">i", port) + _kstr(None)
    return body + _kstr(cluster_id) + struct.pack(">ii", brokers[0][0], 0)  # controller, no topics


def test_parsers_read_what_a_broker_sends() -> None:
    apis = harness.parse_api_versions_response(api_versions_response(3, {18: (0, 3), 3: (0, 12)}), 3)
    assert apis == {18: (0, 3), 3: (0, 12)}
    info = harness.parse_metadata_response(metadata_response(4, [(2, "h", 2), (1, "h", 1)], "cid"), 4)
    assert info.brokers == ((1, "h", 1), (2, "h", 2))
    assert (info.cluster_id, info.controller_id) == ("cid", 2)
    with pytest.raises(HarnessError):
        harness.parse_api_versions_response(api_versions_response(3, {}), 99)


class _FakeBroker(socketserver.BaseRequestHandler):
    """Answers ApiVersions and Metadata like a one-node Kafka cluster."""

    def handle(self) -> None:
        while True:
            head = self.request.recv(4)
            if len(head) < 4:
                return
            (size,) = struct.unpack(">i", head)
            req = b""
            while len(req) < size:
                req += self.request.recv(size - len(req))
            api_key, _version, corr = struct.unpack_from(">hhi", req)
            if api_key == harness.API_VERSIONS:
                resp = api_versions_response(corr, {18: (0, 3), 3: (0, 12)})
            else:
                resp = metadata_response(corr, [(1, "127.0.0.1", self.server.server_address[1])], "fake")
            self.request.sendall(struct.pack(">i", len(resp)) + resp)


@pytest.fixture
def fake_broker() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeBroker)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_probe_reports_the_brokers_of_a_serving_node(fake_broker: int) -> None:
    info = harness.probe("127.0.0.1", fake_broker)
    assert info is not None
    assert info.brokers == ((1, "127.0.0.1", fake_broker),)
    assert info.cluster_id == "fake"


def test_probe_is_none_when_nothing_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        assert harness.probe("127.0.0.1", port, timeout=0.5) is None
