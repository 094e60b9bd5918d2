"""The database tables, one module per aggregate."""

from pulse.models.published import Level, PublishedCell, PublishedReason, PublishedWeek, TodaySnapshot
from pulse.models.receipts import ContributorReceipt, RatingKey, RequestReceipt, ShiftReceipt
from pulse.models.structure import Department, ReasonTag, ShiftBand, Team
from pulse.models.tallies import OrgShiftTally, TeamWeekReasonTally, TeamWeekTally

__all__ = [
    "ContributorReceipt",
    "Department",
    "Level",
    "OrgShiftTally",
    "PublishedCell",
    "PublishedReason",
    "PublishedWeek",
    "RatingKey",
    "ReasonTag",
    "RequestReceipt",
    "ShiftBand",
    "ShiftReceipt",
    "Team",
    "TeamWeekReasonTally",
    "TeamWeekTally",
    "TodaySnapshot",
]
