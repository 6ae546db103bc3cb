"""The arithmetic of the bench's figures: pure functions, no Kafka."""

from __future__ import annotations

import math
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least ``p`` % of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def max_gap(times: Sequence[float]) -> float:
    """The longest quiet spell between consecutive ``times`` (0 with fewer than two)."""
    ordered = sorted(times)
    return max((b - a for a, b in zip(ordered, ordered[1:])), default=0.0)


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of ``(x, y)`` points (0 with fewer than two distinct x)."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def bucket_quantile(buckets: Sequence[tuple[float, float]], q: float) -> float:
    """The upper bound of the histogram bucket holding the ``q`` quantile (0-1).

    ``buckets`` are Prometheus's: (upper bound ``le``, cumulative count), the last one ``+Inf``.
    Without observations it is 0.
    """
    ordered = sorted(buckets)
    total = ordered[-1][1] if ordered else 0
    if not total:
        return 0.0
    wanted = max(math.ceil(q * total), 1)
    return next(bound for bound, count in ordered if count >= wanted)


def bucket_difference(after: Sequence[tuple[float, float]],
                      before: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """What a histogram counted between two scrapes, bucket by bucket."""
    earlier = dict(before)
    return [(bound, count - earlier.get(bound, 0)) for bound, count in sorted(after)]
