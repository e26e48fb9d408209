"""The repository explains itself: nothing in it points to documents or data outside the clone, and the
README's quick start uses the sample article shipped with the project (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from spacy.language import Language

from wirewatch.agents.detector import detect
from wirewatch.agents.nlp import entities_of

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "launch_report.txt"
#: What a file in the clone must not point to: the design note and the data directory next to the repo.
OUTSIDE = re.compile(r"DESIGN\.md|\.\./shared/|/work/shared")


def tracked_text_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    paths = [REPO / name for name in listed.splitlines()]
    return [
        p for p in paths if p.suffix in {".py", ".md", ".toml", ".json", ".txt", ".yml", ".cfg", ""} and p.is_file()
    ]


def test_no_file_cites_a_document_outside_the_repository() -> None:
    me = Path(__file__).resolve()
    offenders = []
    for path in tracked_text_files():
        if path.resolve() == me:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{path.relative_to(REPO)}:{m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert not offenders, offenders


def test_the_quick_start_ingests_the_shipped_sample() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "wirewatch ingest --text examples/launch_report.txt" in readme
    assert SAMPLE.read_text(encoding="utf-8").startswith("Written for the wirewatch project")


def test_the_sample_article_raises_a_launch_and_a_warning(nlp: Language) -> None:
    doc = nlp(SAMPLE.read_text(encoding="utf-8"))
    findings = detect(doc, entities_of(doc)).findings
    assert {(f.actor, f.kind, f.modality) for f in findings} == {
        ("North Korea", "srbm", "occurred"),
        ("North Korea", "icbm", "possible"),
    }
