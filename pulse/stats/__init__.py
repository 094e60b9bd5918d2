"""Pure statistics over plain numbers (no I/O, Flask or database): SPC charts, their readings, intervals.

The dashboard draws its charts and the alerts decide their signals with the same functions, so both apply
the same rules.
"""

from pulse.stats.intervals import net_score, wilson_interval
from pulse.stats.reading import describe
from pulse.stats.spc import (
    BASELINE,
    LIMIT,
    NEAR_LIMIT,
    RUN,
    SCREEN,
    Assurance,
    Direction,
    Rule,
    Side,
    SpcChart,
    SpcPoint,
    SpcSegment,
    Variation,
    p_chart,
    xmr_chart,
)

__all__ = [
    "BASELINE",
    "LIMIT",
    "NEAR_LIMIT",
    "RUN",
    "SCREEN",
    "Assurance",
    "Direction",
    "Rule",
    "Side",
    "SpcChart",
    "SpcPoint",
    "SpcSegment",
    "Variation",
    "describe",
    "net_score",
    "p_chart",
    "wilson_interval",
    "xmr_chart",
]
