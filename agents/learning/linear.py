"""A logistic model (binary or multinomial) that predicts in numpy and is stored without pickle.

Files: ``NAME.npz`` (arrays ``weights`` (classes × columns, one row for a binary model) and ``bias``) and
``NAME.json`` (labels, feature spec, temperature, format version). scikit-learn fits it at training time
only (:func:`fit_linear`); the worker needs numpy alone.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .features import SparseRows

FORMAT = "wirewatch-linear/1"


class ModelFileError(RuntimeError):
    """A model file is missing, unreadable, or does not fit the code that loads it."""


@dataclass
class LinearModel:
    """``labels`` are the classes in column order; ``spec`` describes the feature columns (its ``version``
    must match the code's feature extractor: checked by :meth:`load` when asked)."""

    labels: tuple[str, ...]
    weights: np.ndarray  # (n_classes, n_columns), or (1, n_columns) for a binary model
    bias: np.ndarray  # (n_classes,) or (1,)
    spec: dict[str, Any] = field(default_factory=dict)
    temperature: float = 1.0

    def __post_init__(self) -> None:
        # one copy of the weights, held column by column (a sparse row gathers its columns' weights in one
        # contiguous block); ``weights`` is a transposed view of it, so the model costs its weights once
        self.weights = np.ascontiguousarray(np.asarray(self.weights).T).T

    @property
    def _by_column(self) -> np.ndarray:
        """``weights`` transposed, one contiguous row per feature column (no copy: see ``__post_init__``)."""
        return self.weights.T

    @property
    def n_columns(self) -> int:
        return int(self.weights.shape[1])

    def logits(self, rows: Any) -> np.ndarray:
        """Raw scores: ``rows`` are :class:`SparseRows`, a dense array or a scipy sparse matrix."""
        if isinstance(rows, SparseRows):
            if rows.n_columns != self.n_columns:
                raise ValueError(f"rows have {rows.n_columns} columns, the model {self.n_columns}")
            data, indices, indptr, (n, _w) = rows.csr()
            out = np.zeros((n, self.weights.shape[0]))
            contrib = self._by_column[indices] * data[:, None]  # one row per stored value
            for r, (lo, hi) in enumerate(itertools.pairwise(indptr.tolist())):
                if hi > lo:  # a row's values summed in stored order, one after another (as np.add.at did, faster)
                    out[r] = np.add.accumulate(contrib[lo:hi], axis=0)[-1]
        elif hasattr(rows, "tocsr"):  # a scipy sparse matrix (training code slices those)
            if rows.shape[1] != self.n_columns:
                raise ValueError(f"rows have {rows.shape[1]} columns, the model {self.n_columns}")
            out = np.asarray(rows.tocsr() @ self.weights.T)
        else:
            matrix = np.atleast_2d(np.asarray(rows, dtype=np.float64))
            if matrix.shape[1] != self.n_columns:
                raise ValueError(f"rows have {matrix.shape[1]} columns, the model {self.n_columns}")
            out = matrix @ self.weights.T
        return out + self.bias

    def predict_proba(self, rows: Any) -> np.ndarray:
        """Calibrated class probabilities, one row per input row, columns in ``labels`` order."""
        return probabilities(self.logits(rows) / self.temperature)

    def save(self, path: str | Path) -> None:
        """Write ``path`` (.npz) and its metadata beside it (.json); bytes depend only on the model."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:  # np.savez on a file object: no timestamps in the zip entries
            # row-major whatever the layout held in memory (``__post_init__``), so the bytes are the model's alone
            weights = np.ascontiguousarray(self.weights, dtype=np.float32)
            np.savez(fh, weights=weights, bias=self.bias.astype(np.float32))
        meta = {"format": FORMAT, "labels": list(self.labels), "spec": self.spec, "temperature": self.temperature}
        _meta_path(path).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path, spec: Mapping[str, Any] | None = None) -> LinearModel:
        """Read a model written by :meth:`save`. ``spec``: the feature spec the caller computes features
        for; a model built for another spec is refused. Every failure is a :class:`ModelFileError`."""
        path = Path(path)
        meta_path = _meta_path(path)
        for p in (path, meta_path):
            if not p.is_file():
                raise ModelFileError(f"model file not found: {p}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{meta_path}: not a readable model metadata file: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            got = meta.get("format") if isinstance(meta, dict) else None
            raise ModelFileError(f"{meta_path}: format {got!r}, expected {FORMAT!r}")
        try:
            with np.load(path, allow_pickle=False) as arrays:
                weights = np.asarray(arrays["weights"], dtype=np.float64)
                bias = np.asarray(arrays["bias"], dtype=np.float64)
        except Exception as exc:  # zipfile, ValueError, KeyError, OSError: all mean "not this model's file"
            raise ModelFileError(f"{path}: not a readable model weights file: {exc}") from exc
        labels = tuple(str(x) for x in meta.get("labels", ()))
        n_rows = 1 if len(labels) == 2 else len(labels)
        if len(labels) < 2 or weights.ndim != 2 or weights.shape[0] != n_rows or bias.shape != (n_rows,):
            raise ModelFileError(f"{path}: weights {weights.shape} / bias {bias.shape} do not fit {len(labels)} labels")
        model_spec = dict(meta.get("spec") or {})
        if spec is not None:
            for key, value in spec.items():
                if model_spec.get(key) != value:
                    raise ModelFileError(
                        f"{path}: built for feature spec {key}={model_spec.get(key)!r}, this code needs {value!r}"
                        " (retrain it with this version)"
                    )
        if weights.shape[1] != int(model_spec.get("n_columns", weights.shape[1])):
            raise ModelFileError(f"{path}: {weights.shape[1]} weight columns, its spec says {model_spec['n_columns']}")
        temperature = float(meta.get("temperature", 1.0))
        if not temperature > 0:
            raise ModelFileError(f"{meta_path}: temperature must be positive, got {temperature}")
        return cls(labels, weights, bias, model_spec, temperature)


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Sigmoid for one column (binary: returns two columns, negative then positive), softmax otherwise."""
    logits = np.atleast_2d(logits)
    if logits.shape[1] == 1:
        positive = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0], -500, 500)))
        return np.column_stack([1.0 - positive, positive])
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: Sequence[int]) -> float:
    """The temperature that minimises the log loss of ``logits`` (held-out predictions) on ``y`` (class
    indices): a one-parameter calibration, searched on a fixed log grid (deterministic)."""
    y = np.asarray(y, dtype=np.int64)
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 141))
    best, best_loss = 1.0, np.inf
    for t in grid:
        p = probabilities(np.atleast_2d(logits) / t)
        loss = -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)))
        if loss < best_loss - 1e-12:
            best, best_loss = float(t), loss
    return round(best, 4)


def fit_linear(
    rows: Any,
    y: Sequence[str],
    C: float = 1.0,
    seed: int = 0,
    *,
    labels: Sequence[str] | None = None,
    spec: Mapping[str, Any] | None = None,
    class_weight: str | None = None,
    sample_weight: Sequence[float] | None = None,
) -> LinearModel:
    """An L2 logistic regression fitted with scikit-learn (newton-cg: deterministic for given data). ``rows``:
    :class:`SparseRows`, a dense array or a scipy sparse matrix; ``y``: one label per row; ``sample_weight``:
    one weight per row (None: all 1)."""
    # scikit-learn is a training-only dependency (the ``train`` extra): imported here so the worker never needs it
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    classes = tuple(labels) if labels is not None else tuple(sorted(set(y)))
    missing = sorted(set(y) - set(classes))
    if missing:
        raise ValueError(f"labels {missing} are not among {classes}")
    if isinstance(rows, SparseRows):
        data, indices, indptr, shape = rows.csr()
        matrix: Any = csr_matrix((data, indices, indptr), shape=shape)
    elif hasattr(rows, "tocsr"):
        matrix = rows.tocsr()
    else:
        matrix = np.asarray(rows, dtype=np.float64)
    present = sorted(set(y), key=classes.index)
    if len(present) == 1:
        raise ValueError(f"only one class in the training labels: {present[0]!r}")
    # newton-cg: deterministic, and on these wide sparse problems several times faster than lbfgs
    clf = LogisticRegression(C=C, solver="newton-cg", max_iter=1000, random_state=seed, class_weight=class_weight)
    weights_of_rows = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if weights_of_rows is not None and weights_of_rows.shape != (len(y),):
        raise ValueError(f"{weights_of_rows.size} sample weights for {len(y)} rows")
    clf.fit(matrix, [present.index(v) for v in y], sample_weight=weights_of_rows)
    n_columns = matrix.shape[1]
    model_spec = {**(dict(spec) if spec else {}), "n_columns": int(n_columns)}
    if len(classes) == 2:
        weights = clf.coef_.reshape(1, -1)  # both classes present, in ``classes`` order: row = second class
        bias = clf.intercept_.reshape(1)
        return LinearModel(classes, weights.astype(np.float64), bias.astype(np.float64), model_spec)
    # multinomial: classes absent from the data keep a very low bias so they are never predicted
    weights = np.zeros((len(classes), n_columns))
    bias = np.full(len(classes), -30.0)
    coef, intercept = clf.coef_, clf.intercept_
    if len(present) == 2:  # scikit-learn's binary form: one row for the second class
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    for row, label in enumerate(present):
        weights[classes.index(label)] = coef[row]
        bias[classes.index(label)] = intercept[row]
    return LinearModel(classes, weights, bias, model_spec)
