"""`eval alerts`: scoring over items, mismatch lines, the final JSON line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from spacy.language import Language

from wirewatch.agents.eval_alerts import evaluate, read_items

ITEMS = [
    {
        "id": "t1",
        "text": "Iran test-fired a ballistic missile on Sunday.",
        "expect_alert": True,
        "kind": "ballistic_unspecified",
        "modality": "occurred",
        "actor": "Iran",
    },
    # labelled "threatened" on purpose: a true positive whose modality does not match
    {
        "id": "t2",
        "text": "Officials said North Korea may launch an intercontinental ballistic missile soon.",
        "expect_alert": True,
        "kind": "icbm",
        "modality": "threatened",
        "actor": "North Korea",
    },
    {
        "id": "t3",
        "text": "SpaceX launched a Falcon 9 rocket with 40 satellites on Friday.",
        "expect_alert": False,
        "kind": "space_launch_vehicle",
        "modality": "occurred",
        "actor": "SpaceX",
    },
    # labelled negative on purpose: a false positive
    {
        "id": "t4",
        "text": "North Korea fired a cruise missile on Monday.",
        "expect_alert": False,
        "kind": "cruise",
        "modality": "occurred",
        "actor": "North Korea",
    },
    # no weapon or launch word: the detector cannot see it, a false negative ("The test went exactly as
    # planned" was one until the model retrained with the denial veto learned to alert on it, rightly)
    {
        "id": "t5",
        "text": "Everything went exactly as planned, the air force said.",
        "expect_alert": True,
        "kind": "icbm",
        "modality": "occurred",
        "actor": "United States",
    },
]


@pytest.fixture()
def items_file(tmp_path: Path) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n\n", encoding="utf-8")
    return path


def test_figures_and_mismatches(nlp: Language, items_file: Path) -> None:
    out = io.StringIO()
    figures = evaluate(items_file, nlp=nlp, out=out, progress=True)  # StringIO is no tty: no bar
    lines = out.getvalue().strip().splitlines()
    assert json.loads(lines[-1]) == figures
    assert (figures["n"], figures["tp"], figures["fp"], figures["fn"], figures["tn"]) == (5, 2, 1, 1, 1)
    assert figures["precision"] == pytest.approx(2 / 3, abs=1e-3)
    assert figures["recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert figures["f1"] == pytest.approx(2 / 3, abs=1e-3)
    assert figures["modality_accuracy"] == 0.5
    assert figures["kind_accuracy"] == 1.0
    assert (figures["actor_accuracy"], figures["actor_accuracy_ci"]) == (1.0, [1.0, 1.0])
    assert figures["modality_confusion"] == {"occurred": {"occurred": 1}, "threatened": {"possible": 1}}
    mismatched = sorted(line.split()[1].rstrip(":") for line in lines[:-1])
    assert mismatched == ["t2", "t4", "t5"]
    assert all(line.startswith("MISMATCH") for line in lines[:-1])


def test_read_items_rejects_bad_lines(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "t", "expect_alert": true}\n{not json}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        read_items(bad)
    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"id": "x", "text": "t"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="expect_alert"):
        read_items(missing)


@pytest.mark.parametrize("field", ["text", "source", "title", "published_at", "actor"])
def test_read_items_rejects_a_field_that_is_no_text(tmp_path: Path, field: str) -> None:
    item = {"id": "x", "text": "t", "expect_alert": True, field: 20170828}
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps(item) + "\n", encoding="utf-8")
    message = "item 1 needs 'text' \\(a string\\)" if field == "text" else f"item 1: '{field}' must be a string"
    with pytest.raises(ValueError, match=message):
        read_items(path)
    path.write_text(json.dumps(item | {field: None}) + "\n", encoding="utf-8")
    if field == "text":  # a passage is needed; the rest may be unknown
        with pytest.raises(ValueError, match=message):
            read_items(path)
    else:
        assert read_items(path)[0]["expect_alert"] is True


def test_each_items_source_is_the_articles_address(nlp: Language, tmp_path: Path) -> None:
    """An item with no ``published_at`` is read against the date its ``source`` carries, as the enrich agent
    reads an article against its URL's: a launch in August, in an article of December, is background."""
    item = {
        "id": "dated",
        "text": "In August North Korea fired a ballistic missile over Japan, the ministry said.",
        "expect_alert": False,
        "kind": "ballistic_unspecified",
        "modality": "historical",
    }
    figures = {}
    dated = "https://news.example.com/2017/12/01/north-korea-missile-story/"  # written for the project
    for name, source in (("undated", "https://news.example.com/world/story"), ("dated", dated)):
        path = tmp_path / f"{name}.jsonl"
        path.write_text(json.dumps(item | {"source": source}) + "\n", encoding="utf-8")
        figures[name] = evaluate(path, nlp=nlp, out=io.StringIO(), progress=False)
    assert (figures["undated"]["fp"], figures["dated"]["fp"]) == (1, 0)


def test_actor_accuracy_is_over_true_positives_whose_label_names_an_actor(nlp: Language, tmp_path: Path) -> None:
    """Written for the project: the strongest finding's actor against the label's, one of a joint launch's
    actors being enough; a true positive whose label names no actor is not counted."""
    launch = "North Korea fired two ballistic missiles into the sea on Monday."
    items = [
        {"id": "a", "text": launch, "expect_alert": True, "actor": "North Korea"},
        {"id": "b", "text": launch, "expect_alert": True, "actor": "Japan"},
        {"id": "c", "text": launch, "expect_alert": True, "actor": "South Korea; North Korea"},
        {"id": "d", "text": launch, "expect_alert": True, "actor": ""},
    ]
    path = tmp_path / "actors.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    figures = evaluate(path, nlp=nlp, out=io.StringIO(), progress=False)
    assert figures["tp"] == 4
    assert figures["actor_accuracy"] == pytest.approx(2 / 3, abs=1e-3)
