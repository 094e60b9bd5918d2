"""Shares on small numbers: the Wilson interval, and the net score with its standard error."""

from __future__ import annotations

import math


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval for the share successes / n, as fractions ((0, 1) when n is 0)."""
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie between 0 and n, not {successes} of {n}")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # The ends are exactly 0 and 1 at 0 and n successes; say so rather than trust the rounding.
    lower = 0.0 if successes == 0 else max(0.0, centre - half)
    upper = 1.0 if successes == n else min(1.0, centre + half)
    return (lower, upper)


def net_score(red: int, amber: int, green: int) -> tuple[float, float]:
    """The net score, % green - % red (-100 to +100), and its standard error.

    For multinomial counts Var(p_g - p_r) = (p_g + p_r - (p_g - p_r)^2) / n.
    """
    if min(red, amber, green) < 0:
        raise ValueError("counts cannot be negative")
    n = red + amber + green
    if n == 0:
        raise ValueError("no ratings: the net score is undefined")
    p_green, p_red = green / n, red / n
    difference = p_green - p_red
    variance = (p_green + p_red - difference * difference) / n
    return (100 * difference, 100 * math.sqrt(max(variance, 0.0)))
