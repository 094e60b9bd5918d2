"""The database tables, one module per aggregate."""

from pulse.models.accounts import AuditEvent, DashboardAccess, OrganisationSettings, Role, User
from pulse.models.actions import Action, AlertSubscription, SentAlert
from pulse.models.published import Level, PublishedCell, PublishedReason, PublishedWeek, TodaySnapshot
from pulse.models.receipts import ContributorReceipt, KioskReceipt, RatingKey, RequestReceipt, ShiftReceipt
from pulse.models.structure import Department, ReasonTag, ShiftBand, SupportLink, Team
from pulse.models.tallies import OrgShiftTally, TeamWeekReasonTally, TeamWeekTally

__all__ = [
    "Action",
    "AlertSubscription",
    "AuditEvent",
    "ContributorReceipt",
    "DashboardAccess",
    "Department",
    "KioskReceipt",
    "Level",
    "OrgShiftTally",
    "OrganisationSettings",
    "PublishedCell",
    "PublishedReason",
    "PublishedWeek",
    "RatingKey",
    "ReasonTag",
    "RequestReceipt",
    "Role",
    "SentAlert",
    "ShiftBand",
    "ShiftReceipt",
    "SupportLink",
    "Team",
    "TeamWeekReasonTally",
    "TeamWeekTally",
    "TodaySnapshot",
    "User",
]
