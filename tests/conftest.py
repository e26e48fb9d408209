"""Shared fixtures: the brokers of the integration suite and the seed article."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from spacy.language import Language

# The local news site of the feed tests (fixture ``site``); a throwaway PostgreSQL (``postgres_url``).
pytest_plugins = ["tests.feed_site", "tests.postgres"]

REPO = Path(__file__).resolve().parent.parent
#: The third-party labelled data (the seed article, the eval and train sets) is not part of the repository:
#: tests that need it find it through this one variable (``.ci/run`` sets it) and skip without it.
SHARED_DIR = Path(os.environ["WIREWATCH_SHARED_DIR"]) if os.environ.get("WIREWATCH_SHARED_DIR") else None
SEED_NAME = "seeds/000_08aeed8e566f2a8e.txt"


def shared_path(relative: str) -> Path:
    """A file of the third-party data, or a skip saying how to provide it."""
    if SHARED_DIR is None:
        pytest.skip(f"needs the third-party data ({relative}): set WIREWATCH_SHARED_DIR to its directory")
    path = SHARED_DIR / relative
    if not path.exists():
        pytest.skip(f"{path} not found: WIREWATCH_SHARED_DIR={SHARED_DIR} lacks {relative}")
    return path


@pytest.fixture(scope="session")
def seed_text() -> str:
    """The seed article (third-party data; see docs/ARCHITECTURE.md, "The seed article")."""
    return shared_path(SEED_NAME).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def nlp() -> Language:
    """The shipped pipeline (model + gazetteer), loaded once for the whole test session."""
    from wirewatch.agents.nlp import load_pipeline

    return load_pipeline()


@pytest.fixture(scope="session")
def broker_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real broker for the integration suite, chosen by WIREWATCH_TEST_BROKER=tansu|kafka.

    tansu (default): the embedded Tansu on a free loopback port. kafka: Apache Kafka from the native
    harness (tools/kafka), or an already running one named by WIREWATCH_TEST_KAFKA_BOOTSTRAP.
    """
    kind = os.environ.get("WIREWATCH_TEST_BROKER", "tansu")
    if kind == "tansu":
        from wirewatch.streams.broker import EmbeddedBroker, free_port
        from wirewatch.streams.settings import Settings

        log = tmp_path_factory.mktemp("tansu") / "tansu.log"
        with EmbeddedBroker(Settings(), port=free_port(), log_file=log) as broker:
            yield broker.bootstrap
    elif kind == "kafka":
        external = os.environ.get("WIREWATCH_TEST_KAFKA_BOOTSTRAP")
        if external:
            yield external
            return
        from tools.kafka.harness import KafkaCluster

        with KafkaCluster(brokers=1, data_dir=tmp_path_factory.mktemp("kafka")) as cluster:
            yield cluster.bootstrap
    else:
        pytest.fail(f"WIREWATCH_TEST_BROKER must be tansu or kafka, not {kind!r}")
