"""The shared learning machinery: data files, grouped folds, bootstrap, hashing, the linear model, the card."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wirewatch.agents.learning.card import file_sha256, write_card
from wirewatch.agents.learning.data import read_jsonl, source_group
from wirewatch.agents.learning.features import SparseRows, hashed_features, span_vector
from wirewatch.agents.learning.folds import grouped_folds
from wirewatch.agents.learning.linear import LinearModel, ModelFileError, fit_linear, fit_temperature
from wirewatch.agents.learning.stats import bootstrap_interval


def test_read_jsonl_reads_objects_and_names_the_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"a": 1}\n\n{"a": 2}\n', encoding="utf-8")
    assert read_jsonl(good) == [{"a": 1}, {"a": 2}]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{"a": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not JSON"):
        read_jsonl(bad)
    array = tmp_path / "array.jsonl"
    array.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"array.jsonl:1: expected a JSON object"):
        read_jsonl(array)


def test_source_group_normalises_the_address() -> None:
    assert source_group("https://www.Example.com/news/a/?id=3#top") == "example.com/news/a"
    assert source_group("http://example.com/news/a") == "example.com/news/a"
    assert source_group("https://example.com/news/b") != source_group("https://example.com/news/a")


def test_grouped_folds_keep_groups_apart_and_are_deterministic() -> None:
    groups = [f"g{i % 13}" for i in range(100)]
    folds = grouped_folds(groups, k=5, seed=3)
    assert len(folds) == 5
    tested = np.concatenate([test for _train, test in folds])
    assert sorted(tested.tolist()) == list(range(100))  # every item tested exactly once
    for train, test in folds:
        assert not {groups[i] for i in train} & {groups[i] for i in test}
        assert len(train) + len(test) == 100
    again = grouped_folds(groups, k=5, seed=3)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again, strict=True))
    other = grouped_folds(groups, k=5, seed=4)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))
    with pytest.raises(ValueError, match="groups"):
        grouped_folds(["a", "b"], k=5)


def test_bootstrap_interval_brackets_the_figure_and_narrows_with_more_items() -> None:
    def share(values: np.ndarray):  # type: ignore[no-untyped-def]
        return lambda idx: float(values[idx].mean())

    small = np.array([1.0] * 30 + [0.0] * 10)
    big = np.array([1.0] * 300 + [0.0] * 100)
    lo, hi = bootstrap_interval(len(small), share(small), seed=1)
    assert lo < 0.75 < hi
    blo, bhi = bootstrap_interval(len(big), share(big), seed=1)
    assert bhi - blo < hi - lo
    assert bootstrap_interval(len(small), share(small), seed=1) == (lo, hi)


def test_hashed_features_are_stable_across_processes() -> None:
    # murmurhash with seed 0 gives fixed columns (Python's hash() would change per process)
    features = hashed_features(["w=missile", "w=fired"], 2**18)
    assert features == hashed_features(["w=fired", "w=missile"], 2**18)
    assert len(features) == 2 and all(0 <= c < 2**18 for c in features)
    doubled = hashed_features(["w=missile", "w=missile"], 2**18)
    assert sorted(abs(v) for v in doubled.values()) == [2.0]


def test_span_vector_is_the_mean_of_the_pipeline_tensor(nlp) -> None:  # type: ignore[no-untyped-def]
    doc = nlp("North Korea fired a missile. Nothing else happened.")
    first = next(iter(doc.sents))
    vector = span_vector(first)
    assert vector.shape == (doc.tensor.shape[1],)
    assert np.allclose(vector, doc.tensor[first.start : first.end].mean(axis=0), atol=1e-6)


def test_sparse_rows_dense_and_csr_agree() -> None:
    rows = SparseRows(4, dense_widths=(2,))
    rows.add({3: 1.0, 0: 2.0}, [np.array([0.5, 0.0])])
    rows.add({}, [np.array([0.0, 1.5])])
    assert rows.dense().tolist() == [[2.0, 0, 0, 1.0, 0.5, 0.0], [0, 0, 0, 0, 0, 1.5]]
    with pytest.raises(ValueError, match="outside"):
        rows.add({9: 1.0}, [np.zeros(2)])


def _toy(n: int = 200, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = ["yes" if a + 0.5 * b > 0 else "no" for a, b, _c in x]
    return x, y


def test_fit_linear_predicts_and_round_trips_through_files(tmp_path: Path) -> None:
    x, y = _toy()
    model = fit_linear(x, y, C=1.0, seed=0, spec={"version": 1})
    assert model.labels == ("no", "yes")
    proba = model.predict_proba(x)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(axis=1), 1.0)
    accuracy = np.mean(np.where(proba[:, 1] > 0.5, "yes", "no") == np.array(y))
    assert accuracy > 0.9
    model.save(tmp_path / "m.npz")
    first = (tmp_path / "m.npz").read_bytes()
    loaded = LinearModel.load(tmp_path / "m.npz", spec={"version": 1})
    assert np.allclose(loaded.predict_proba(x), proba, atol=1e-4)
    fit_linear(x, y, C=1.0, seed=0, spec={"version": 1}).save(tmp_path / "m.npz")
    assert (tmp_path / "m.npz").read_bytes() == first  # same data, same seed: same bytes


def test_fit_linear_sample_weights_scale_the_rows() -> None:
    """A row of weight 0 is a row left out, a row of weight 2 a row said twice; a weight per row or an error."""
    x, y = _toy()
    x, y = np.asarray(x), list(y)
    left_out = fit_linear(x[:150], y[:150], C=1.0, seed=0)
    zeroed = fit_linear(x, y, C=1.0, seed=0, sample_weight=[1.0] * 150 + [0.0] * 50)
    assert np.allclose(zeroed.weights, left_out.weights, atol=1e-4)
    doubled = fit_linear(np.vstack([x, x[:20]]), y + y[:20], C=1.0, seed=0)
    weighted = fit_linear(x, y, C=1.0, seed=0, sample_weight=[2.0] * 20 + [1.0] * 180)
    assert np.allclose(weighted.weights, doubled.weights, atol=1e-4)
    with pytest.raises(ValueError, match="3 sample weights for 200 rows"):
        fit_linear(x, y, C=1.0, seed=0, sample_weight=[1.0, 1.0, 1.0])


def test_saved_weights_are_row_major_whatever_the_layout_in_memory(tmp_path: Path) -> None:
    """The model holds its weights column by column; the file is written row-major all the same, so a
    retrained model's bytes match a file written before that layout (the shipped weights)."""
    weights = np.arange(12, dtype=np.float32).reshape(3, 4)
    bias = np.zeros(3, dtype=np.float32)
    LinearModel(("a", "b", "c"), weights, bias).save(tmp_path / "m.npz")
    reference = tmp_path / "reference.npz"
    with reference.open("wb") as fh:
        np.savez(fh, weights=weights, bias=bias)
    assert (tmp_path / "m.npz").read_bytes() == reference.read_bytes()
    assert np.array_equal(LinearModel.load(tmp_path / "m.npz").weights, weights)


def test_sparse_rows_give_the_same_probabilities_as_dense() -> None:
    x, y = _toy()
    rows = SparseRows(3)
    for r in x:
        rows.add({j: float(v) for j, v in enumerate(r)})
    model = fit_linear(rows, y, seed=0)
    assert np.allclose(model.predict_proba(rows), model.predict_proba(x))


def test_multinomial_model_keeps_unseen_labels_improbable() -> None:
    x, _ = _toy()
    y = ["a" if r[0] > 0.5 else ("b" if r[0] > -0.5 else "c") for r in x]
    model = fit_linear(x, y, labels=("a", "b", "c", "d"), seed=0)
    proba = model.predict_proba(x)
    assert proba.shape == (200, 4) and proba[:, 3].max() < 1e-6
    assert np.mean(np.array(model.labels)[proba.argmax(axis=1)] == np.array(y)) > 0.85


def test_fit_temperature_softens_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    # right 70 % of the time, but with logits of +-6 (probability 0.998)
    right = rng.random(500) < 0.7
    logits = np.where(right == (y == 1), 6.0, -6.0).reshape(-1, 1)
    assert fit_temperature(logits, y) > 3.0


def test_load_refuses_missing_corrupt_and_incompatible_files(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        LinearModel.load(tmp_path / "none.npz")
    x, y = _toy()
    model = fit_linear(x, y, spec={"version": 1})
    model.save(tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match="version"):
        LinearModel.load(tmp_path / "m.npz", spec={"version": 2})
    (tmp_path / "m.npz").write_bytes(b"not a zip file")
    with pytest.raises(ModelFileError, match="weights file"):
        LinearModel.load(tmp_path / "m.npz")
    model.save(tmp_path / "m.npz")
    (tmp_path / "m.json").write_text("{", encoding="utf-8")
    with pytest.raises(ModelFileError, match="metadata"):
        LinearModel.load(tmp_path / "m.npz")
    (tmp_path / "m.json").write_text(json.dumps({"format": "other"}), encoding="utf-8")
    with pytest.raises(ModelFileError, match="format"):
        LinearModel.load(tmp_path / "m.npz")


def test_card_lists_data_hashes_and_figures(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text('{"a": 1}\n', encoding="utf-8")
    card = write_card(
        tmp_path / "card.md",
        title="Toy",
        summary="A toy.",
        data_files=[data],
        counts={"items": 1},
        seed=0,
        hyper_parameters={"C": 1.0},
        figures={"cross-validated by source": {"precision": {"value": 0.9, "ci": [0.85, 0.95]}}},
        weaknesses=["tiny"],
    )
    text = card.read_text(encoding="utf-8")
    assert file_sha256(data) in text
    assert "| precision | 0.900 [0.850, 0.950] |" in text
    assert "- tiny" in text
