"""Cross-validation folds grouped by source: no group on both sides of a split."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def grouped_folds(groups: Sequence[str], k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train indices, test indices) pairs; every group lands in exactly one test fold.

    Groups are shuffled with ``seed`` and dealt largest first to the fold with the fewest items so far,
    so folds stay near equal in size; the result depends only on ``groups``, ``k`` and ``seed``.
    """
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    names = sorted(set(groups))
    if len(names) < k:
        raise ValueError(f"{len(names)} groups cannot fill {k} folds")
    rng = np.random.default_rng(seed)
    order = [names[i] for i in rng.permutation(len(names))]
    members: dict[str, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    order.sort(key=lambda g: -len(members[g]))  # stable: ties keep the shuffled order
    sizes = [0] * k
    fold_of: dict[str, int] = {}
    for group in order:
        fold = min(range(k), key=lambda f: (sizes[f], f))
        fold_of[group] = fold
        sizes[fold] += len(members[group])
    assignment = np.array([fold_of[g] for g in groups])
    everything = np.arange(len(groups))
    return [(everything[assignment != f], everything[assignment == f]) for f in range(k)]
