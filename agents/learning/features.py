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
    if len(_HASHES) > _HASHES_LIMIT:  # a stream of new words is endless
        _HASHES.clear()
    known = _HASHES.get
    out: dict[int, float] = {}
    total = out.get
    for s in strings:
        h = known(s)
        if h is None:
            h = _HASHES[s] = hash_unicode(s)
        col = abs(h) % dim
        out[col] = total(col, 0.0) + (1.0 if h >= 0 else -1.0)
    return {c: v for c, v in out.items() if v != 0.0}


#: Hashes of feature strings seen before: most of an article's features (rules' signals, common words and word
#: pairs) recur in every article, and a dict look-up is cheaper than hashing the string again.
_HASHES: dict[str, int] = {}
_HASHES_LIMIT = 100_000


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
        self._csr: tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]] | None = None

    @property
    def n_columns(self) -> int:
        return self.width + sum(self.dense_widths)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def add(self, sparse: Mapping[int, float], dense: Sequence[np.ndarray] = ()) -> None:
        if len(dense) != len(self.dense_widths):
            raise ValueError(f"expected {len(self.dense_widths)} dense blocks, got {len(dense)}")
        columns = sorted(sparse)
        if columns and not (columns[0] >= 0 and columns[-1] < self.width):
            bad = next(col for col in columns if not 0 <= col < self.width)
            raise ValueError(f"column {bad} outside the sparse width {self.width}")
        self.indices += columns
        self.data += [float(sparse[col]) for col in columns]
        offset = self.width
        for block, width in zip(dense, self.dense_widths, strict=True):
            values = np.asarray(block, dtype=np.float64).ravel()
            if values.size != width:
                raise ValueError(f"dense block of width {values.size}, expected {width}")
            nonzero = np.flatnonzero(values)  # the block at once: a row's 96 values one by one cost more than its words
            self.indices += (nonzero + offset).tolist()
            self.data += values[nonzero].tolist()
            offset += width
        self.indptr.append(len(self.indices))
        self._csr = None

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
        """``(data, indices, indptr, shape)``, what ``scipy.sparse.csr_matrix`` takes (built once until the next
        row is added: the alert model's three parts read the same rows; treat the arrays as read only)."""
        if self._csr is None:
            self._csr = (
                np.asarray(self.data, dtype=np.float64),
                np.asarray(self.indices, dtype=np.int64),
                np.asarray(self.indptr, dtype=np.int64),
                (len(self), self.n_columns),
            )
        return self._csr

    def dense(self) -> np.ndarray:
        out = np.zeros((len(self), self.n_columns), dtype=np.float64)
        for r in range(len(self)):
            lo, hi = self.indptr[r], self.indptr[r + 1]
            np.add.at(out[r], self.indices[lo:hi], self.data[lo:hi])
        return out
