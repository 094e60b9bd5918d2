"""Percentiles and a timed series, as every benchmark reports them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or below it
    (NaN for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Timing:
    label: str
    samples: list[float]  # ms
    target_ms: float | None = None
    note: str = ""
    full_gcs: int = 0  # full (generation 2) garbage collections that ran during the timed requests

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)

    @property
    def max(self) -> float:
        return max(self.samples)

    @property
    def passed(self) -> bool:
        return self.target_ms is None or self.p95 < self.target_ms
