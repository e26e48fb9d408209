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
    _fit_alert,
    _positive_rows,
    distrusted_kind_sources,
    feature_matrix,
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


def test_written_passages_teach_the_decision_and_modality_not_the_kind_convention(
    nlp: Language, tmp_path: Path
) -> None:
    """Passages written for the project (sentences written for this test) join the alert decision at
    ``WRITTEN_WEIGHT`` and the modality model, never the kind model nor the named kinds distrusted by the real
    labels' convention: three real passages call a named Scud ``ballistic_unspecified``, three written ones
    ``srbm``, and the named kind is still distrusted."""
    texts = [
        "North Korea fired two Scud missiles into the sea on Monday.",
        "Iran test-fired a Scud missile from a desert site on Tuesday.",
        "Syria launched three Scud missiles at rebel-held towns on Friday.",
    ]
    real = [
        {"id": f"r{i}", "source": f"https://news.example/{i}", "text": text, "expect_alert": True,
         "kind": "ballistic_unspecified", "modality": "occurred", "actor": "", "note": ""}
        for i, text in enumerate(texts)
    ]  # fmt: skip
    written = [
        {**item, "id": f"w{i}", "source": "written for wirewatch", "kind": "srbm", "modality": "threatened",
         WRITTEN_FLAG: True}
        for i, item in enumerate(real)
    ]  # fmt: skip
    for name, items in (("real.jsonl", real), ("written.jsonl", written)):
        (tmp_path / name).write_text("".join(json.dumps(x) + "\n" for x in items), encoding="utf-8")
    data = load_items([tmp_path / "real.jsonl", tmp_path / "written.jsonl"], nlp)
    everything = range(len(data.items))
    assert distrusted_kind_sources(data, everything) == ("named:srbm",)
    rows = np.concatenate([np.asarray(data.items[i].rows) for i in everything])
    _rows, modalities = _positive_rows(data, rows, "modality", MODALITIES, written=True)
    assert sorted(modalities) == ["occurred"] * 3 + ["threatened"] * 3
    _rows, kinds = _positive_rows(data, rows, "kind", KINDS, written=False)
    assert kinds == ["ballistic_unspecified"] * 3
    # the alert decision: a written row weighs WRITTEN_WEIGHT, so a model fitted on the written rows alone at
    # C is the model fitted on them at C * WRITTEN_WEIGHT (the penalty is the same, the data term scaled)
    negatives = [
        {"id": f"n{i}", "source": f"https://news.example/n{i}", "text": text, "expect_alert": False, "kind": "none",
         "modality": "none", "actor": "", "note": "", WRITTEN_FLAG: True}
        for i, text in enumerate(["The museum shows an old Scud missile.", "A Scud missile stands in the park."])
    ]  # fmt: skip
    (tmp_path / "negatives.jsonl").write_text("".join(json.dumps(x) + "\n" for x in negatives), encoding="utf-8")
    data = load_items([tmp_path / "written.jsonl", tmp_path / "negatives.jsonl"], nlp)
    matrix, _spec = feature_matrix(data, "rules+ngrams")
    rows = np.arange(matrix.shape[0])
    weighted = _fit_alert(matrix, data, rows, 1.0, 0)
    plain = fit_linear(matrix, _alert_labels(data, rows), C=WRITTEN_WEIGHT, seed=0, labels=ALERT_LABELS)
    assert np.allclose(weighted.weights, plain.weights, atol=1e-4)
