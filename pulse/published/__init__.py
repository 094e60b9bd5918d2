"""The read-only face of published figures: the only source for the API, exports and the dashboard.

Every figure here comes from a frozen published cell. A cell that was suppressed and a cell with no ratings
come out exactly alike: null figures and the same note (figures.py). A module per idea: weeks.py (which weeks
are published), series.py (figures over weeks and days), today.py (today so far), export.py (open data),
structure.py (the organisation as published), followup.py (the actions shown beside the figures).
"""

from pulse.models.published import Level
from pulse.published.export import EXPORT_BATCH, iter_export_rows
from pulse.published.figures import CELL_FIGURES, NOT_SHOWN, describe_figures
from pulse.published.followup import actions
from pulse.published.series import (
    daily_series,
    departments_weekly_series,
    reason_counts,
    team_grid,
    units_in_week,
    weekly_series,
)
from pulse.published.structure import reason_labels, team_department, unit_is_known, unit_name, units
from pulse.published.today import latest_steps, shown_steps, today_figures
from pulse.published.weeks import iso_monday, iso_week, latest_week, minimum_group_size, published_weeks

__all__ = [
    "CELL_FIGURES",
    "EXPORT_BATCH",
    "NOT_SHOWN",
    "Level",
    "actions",
    "daily_series",
    "departments_weekly_series",
    "describe_figures",
    "iso_monday",
    "iso_week",
    "iter_export_rows",
    "latest_steps",
    "latest_week",
    "minimum_group_size",
    "published_weeks",
    "reason_counts",
    "reason_labels",
    "shown_steps",
    "team_department",
    "team_grid",
    "today_figures",
    "unit_is_known",
    "unit_name",
    "units",
    "units_in_week",
    "weekly_series",
]
