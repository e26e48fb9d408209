"""Where the model runs: on a thread (default) or in a child process (WIREWATCH_NLP_PROCESS), same output."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from spacy.language import Language

from wirewatch.agents.analyzer import AnalysisProcessDied, ProcessAnalyzer, ThreadAnalyzer, analyzer_for
from wirewatch.agents.detector import DetectorConfig
from wirewatch.streams.records import Article
from wirewatch.streams.settings import Settings

CONFIG = DetectorConfig()


def without_timing(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "processing"} for r in records]


@pytest.fixture(scope="module")
def child() -> Iterator[ProcessAnalyzer]:
    analyzer = ProcessAnalyzer(Settings())
    analyzer.start()
    yield analyzer
    analyzer.close()


def test_settings_choose_the_analyzer() -> None:
    assert isinstance(analyzer_for(Settings(), lambda: None), ThreadAnalyzer)
    assert isinstance(analyzer_for(Settings.from_env({"WIREWATCH_NLP_PROCESS": "1"}), lambda: None), ProcessAnalyzer)


async def test_child_process_gives_the_thread_output(child: ProcessAnalyzer, nlp: Language, seed_text: str) -> None:
    articles = [
        Article.create(seed_text, url="https://example.org/seed"),
        Article.create("Iran test-fired a Khorramshahr missile on Tuesday, state media said."),
        Article.create(""),
        Article.create("Der Bundestag hat am Dienstag in Berlin ein neues Gesetz beschlossen und verabschiedet."),
    ]
    in_child = await child.enrich(articles, batch_size=4, config=CONFIG)
    in_thread = await ThreadAnalyzer(lambda: nlp).enrich(articles, batch_size=4, config=CONFIG)
    assert without_timing(in_child) == without_timing(in_thread)
    assert [r["id"] for r in in_child] == [a.id for a in articles]
    assert in_child[0]["entity_counts"]["North Korea"] >= 15


async def test_a_killed_child_is_replaced(child: ProcessAnalyzer) -> None:
    article = Article.create("North Korea fired two ballistic missiles into the Sea of Japan on Monday.")
    first = child.child_pid()
    assert first is not None and Path(f"/proc/{first}").exists()
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{first}/status").exists() and "zombie" not in Path(f"/proc/{first}/status").read_text():
        assert time.monotonic() < deadline, "the child did not die"
        time.sleep(0.05)
    with pytest.raises(AnalysisProcessDied):
        await child.enrich([article], batch_size=1, config=CONFIG)
    assert child.restarts == 1
    second = child.child_pid()
    assert second is not None and second != first
    (record,) = await child.enrich([article], batch_size=1, config=CONFIG)
    assert record["id"] == article.id and any(s["alertable"] for s in record["signals"])
