"""Features: hashed strings, the pipeline's own token vectors over a span, and a sparse row builder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from murmurhash import hash_unicode

if TYPE_CHECKING:
    from spacy.tokens import Span


def hashed_features(strings: Iterable[str], dim: int) -> dict[int, float]:
    """Counts of ``strings`` in ``dim`` buckets (murmurhash, seed 0: the same column in every process,
    unlike Python's salted ``hash``); the sign of the hash spreads collisions (+1 / -1)."""
    out: dict[int, float] = {}
    for s in strings:
        h = hash_unicode(s)
        col = abs(h) % dim
        out[col] = out.get(col, 0.0) + (1.0 if h >= 0 else -1.0)
    return {c: v for c, v in out.items() if v != 0.0}


def span_vector(span: Span) -> np.ndarray:
    """The mean of the doc's ``tensor`` rows over ``span``: the pipeline's tok2vec output (96 wide for
    en_core_web_sm 3.8), already computed by the parse. A doc with no tensor gives an error."""
    tensor = span.doc.tensor
    if tensor is None or getattr(tensor, "shape", (0,))[0] != len(span.doc):
        raise ValueError("the doc has no token tensor (was it parsed with tok2vec?)")
    if len(span) == 0:
        return np.zeros(tensor.shape[1], dtype=np.float32)
    return np.asarray(tensor[span.start : span.end].mean(axis=0), dtype=np.float32)


class SparseRows:
    """Rows of sparse features (``{column: value}``) plus optional dense blocks, built row by row, then
    turned into a CSR triple or a dense array. ``width`` is the sparse width; dense blocks follow it."""

    def __init__(self, width: int, dense_widths: Sequence[int] = ()) -> None:
        self.width = int(width)
        self.dense_widths = tuple(int(w) for w in dense_widths)
        self.data: list[float] = []
        self.indices: list[int] = []
        self.indptr: list[int] = [0]

    @property
    def n_columns(self) -> int:
        return self.width + sum(self.dense_widths)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def add(self, sparse: Mapping[int, float], dense: Sequence[np.ndarray] = ()) -> None:
        if len(dense) != len(self.dense_widths):
            raise ValueError(f"expected {len(self.dense_widths)} dense blocks, got {len(dense)}")
        for col in sorted(sparse):
            if not 0 <= col < self.width:
                raise ValueError(f"column {col} outside the sparse width {self.width}")
            self.indices.append(col)
            self.data.append(float(sparse[col]))
        offset = self.width
        for block, width in zip(dense, self.dense_widths, strict=True):
            values = np.asarray(block, dtype=np.float64).ravel()
            if values.size != width:
                raise ValueError(f"dense block of width {values.size}, expected {width}")
            for j in np.flatnonzero(values):
                self.indices.append(offset + int(j))
                self.data.append(float(values[j]))
            offset += width
        self.indptr.append(len(self.indices))

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
        """``(data, indices, indptr, shape)``, what ``scipy.sparse.csr_matrix`` takes."""
        return (
            np.asarray(self.data, dtype=np.float64),
            np.asarray(self.indices, dtype=np.int64),
            np.asarray(self.indptr, dtype=np.int64),
            (len(self), self.n_columns),
        )

    def dense(self) -> np.ndarray:
        out = np.zeros((len(self), self.n_columns), dtype=np.float64)
        for r in range(len(self)):
            lo, hi = self.indptr[r], self.indptr[r + 1]
            np.add.at(out[r], self.indices[lo:hi], self.data[lo:hi])
        return out
