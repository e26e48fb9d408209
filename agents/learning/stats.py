"""Bootstrap confidence intervals over items."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def bootstrap_interval(
    n_items: int,
    statistic: Callable[[np.ndarray], float],
    rounds: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic``: it is called with ``rounds`` arrays of item indices
    drawn with replacement from ``range(n_items)`` and returns the figure on that resample. Resamples where
    the figure is undefined (``statistic`` returns NaN) are left out."""
    if n_items <= 0:
        raise ValueError("bootstrap needs at least one item")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n_items, n_items)) for _ in range(rounds)], dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (float("nan"), float("nan"))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return (float(low), float(high))
