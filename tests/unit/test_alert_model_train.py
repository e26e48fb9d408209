"""``wirewatch train alerts`` on a small slice of the shared training data: figures with intervals, a model
card, a model the detector loads, and the same bytes when run twice."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from spacy.language import Language

from tests.conftest import shared_path
from wirewatch.agents.alert_model import ALERT_LABELS, AlertModel
from wirewatch.agents.detector import KINDS, MODALITIES, DetectorConfig, analyze_docs
from wirewatch.agents.learning.alerts_train import (
    WRITTEN_FLAG,
    WRITTEN_WEIGHT,
    _alert_labels,
    alert_training_rows,
    alert_view,
    feature_matrix,
    fit_bundle,
    load_items,
    train,
)
from wirewatch.agents.learning.linear import fit_linear


@pytest.fixture(scope="module")
def slice_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    train = shared_path("train/alerts.jsonl")
    lines = [line for line in train.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = tmp_path_factory.mktemp("slice") / "slice.jsonl"
    path.write_text("\n".join(lines[:120]) + "\n", encoding="utf-8")  # a slice, read at test time only
    return path


def _train(nlp: Language, data: Path, out: Path, splits: int = 1) -> tuple[dict, str]:
    stream = io.StringIO()
    report = train(
        [data], out_dir=out, folds=3, seed=0, representations=("rules+ngrams",), nlp=nlp, stream=stream, splits=splits
    )
    return report, stream.getvalue()


def test_training_on_a_slice_is_deterministic_and_usable(nlp: Language, slice_file: Path, tmp_path: Path) -> None:
    report, printed = _train(nlp, slice_file, tmp_path / "a")
    _again, _ = _train(nlp, slice_file, tmp_path / "b")
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {"alert.npz", "modality.npz", "kind.npz", "alert_model.json", "MODEL_CARD.md"} <= set(files)
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # figures are cross-validated by source, each with a bootstrap interval around it
    cv = report["cross_validated"]
    for name in ("precision", "recall", "f1", "modality_accuracy", "kind_accuracy", "candidate_recall"):
        lo, hi = cv[name]["ci"]
        assert lo <= cv[name]["value"] <= hi, name
    assert "cross-validated by source (3 folds), rules+ngrams: precision" in printed
    assert "training figures (fitted on these items, not an estimate)" in printed
    card = (tmp_path / "a" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "## Figures: cross-validated by source, 3 folds" in card and "slice.jsonl" in card
    # held-out misses counted by the shape of their best candidate: every true item is in one shape's count
    shapes = report["errors"]["misses by the best candidate's shape (positives)"]
    assert "### misses by the best candidate's shape (positives)" in card
    assert sum(n for _shape, _missed, n in shapes) == sum(
        n for _m, _missed, n in report["errors"]["misses by kind (positives)"]
    )
    # the written model is what the detector runs
    model = AlertModel.load(tmp_path / "a", KINDS, MODALITIES)
    meta = json.loads((tmp_path / "a" / "alert_model.json").read_text(encoding="utf-8"))
    assert model.threshold == meta["threshold"] and model.spec["representation"] == "rules+ngrams"
    config = DetectorConfig(alert_model=str(tmp_path / "a"))
    [(_e, detection)] = analyze_docs(nlp, ["North Korea fired a ballistic missile on Monday."], config=config)
    assert all(0.0 <= s.finding.confidence <= 1.0 for s in detection.signals)


def test_the_kept_representation_is_cross_validated_on_more_fold_splits(
    nlp: Language, slice_file: Path, tmp_path: Path
) -> None:
    report, printed = _train(nlp, slice_file, tmp_path, splits=2)
    splits = report["splits"]
    assert splits["seeds"] == [0, 1]
    assert splits["f1"][0] == report["cross_validated"]["f1"]["value"]  # the first split is the card's lead
    assert splits["mean"]["recall"] == pytest.approx(sum(splits["recall"]) / 2, abs=1e-4)
    assert "cross-validated by source (3 folds, seed 1): precision" in printed
    card = (tmp_path / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "## Figures: the kept representation over 2 fold splits" in card
    assert sum(line.startswith(("| 0 |", "| 1 |", "| mean |")) for line in card.splitlines()) == 3


def _jsonl(path: Path, items: list[dict]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in items), encoding="utf-8")
    return path


def _passage(pid: str, text: str, alert: bool, kind: str, modality: str, written: bool = False) -> dict:
    source = "written for wirewatch" if written else f"https://news.example/{pid}"
    item = {"id": pid, "source": source, "text": text, "expect_alert": alert, "kind": kind, "modality": modality}
    return {**item, "actor": "", "note": "", **({WRITTEN_FLAG: True} if written else {})}


def test_written_passages_teach_the_decision_and_modality_not_the_kind_convention(
    nlp: Language, tmp_path: Path
) -> None:
    """Passages written for the project (sentences written for this test) join the alert decision at
    ``WRITTEN_WEIGHT`` and the modality model, never the kind model nor the named kinds distrusted by the real
    labels' convention: three real passages call a named Scud ``ballistic_unspecified``, three written ones
    ``srbm`` (and ``possible``, a modality no real passage has)."""
    scuds = [
        "North Korea fired two Scud missiles into the sea on Monday.",
        "Iran test-fired a Scud missile from a desert site on Tuesday.",
        "Syria launched three Scud missiles at rebel-held towns on Friday.",
    ]
    threats = [
        "North Korea warned on Monday that it would fire an ICBM over Japan.",
        "Russia said on Friday it would test-launch a Sarmat ICBM next week.",
    ]
    negatives = ["The museum shows an old Scud missile.", "A Scud missile stands in the park near the station."]
    real = [_passage(f"r{i}", t, True, "ballistic_unspecified", "occurred") for i, t in enumerate(scuds)]
    real += [_passage(f"t{i}", t, True, "icbm", "threatened") for i, t in enumerate(threats)]
    real += [_passage(f"n{i}", t, False, "none", "none") for i, t in enumerate(negatives)]
    written = [_passage(f"w{i}", t, True, "srbm", "possible", written=True) for i, t in enumerate(scuds)]
    data = load_items([_jsonl(tmp_path / "real.jsonl", real), _jsonl(tmp_path / "written.jsonl", written)], nlp)
    everything = np.arange(len(data.items))
    matrix, spec = feature_matrix(data, "rules+ngrams")
    bundle = fit_bundle(matrix, data, everything, spec, 0, 1.0, 0.5)
    never_seen = -30.0  # the bias fit_linear gives a class absent from the training labels
    assert bundle.modality.bias[bundle.modality.labels.index("possible")] != never_seen  # the written taught it
    assert bundle.kind.bias[bundle.kind.labels.index("srbm")] == never_seen  # ... and not this
    assert bundle.distrusted_kinds == ("named:srbm",)
    # the alert decision: a written row weighs WRITTEN_WEIGHT, a real one 1
    rows = alert_training_rows(data, np.arange(matrix.shape[0]))
    weights = [WRITTEN_WEIGHT if data.items[data.row_item[r]].training_only else 1.0 for r in rows]
    assert 0.0 < WRITTEN_WEIGHT < 1.0 and 1.0 in weights and WRITTEN_WEIGHT in weights
    view = alert_view(matrix, spec)
    expected = fit_linear(
        view[rows], _alert_labels(data, rows), C=1.0, seed=0, labels=ALERT_LABELS, sample_weight=weights
    )
    unweighted = fit_linear(view[rows], _alert_labels(data, rows), C=1.0, seed=0, labels=ALERT_LABELS)
    assert np.allclose(bundle.alert.weights, expected.weights, atol=1e-4)
    assert not np.allclose(bundle.alert.weights, unweighted.weights, atol=1e-4)
