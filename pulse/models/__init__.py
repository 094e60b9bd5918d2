"""The database tables, one module per aggregate."""

from pulse.models.accounts import AuditEvent, DashboardAccess, OrganisationSettings, RatingMode, Role, User
from pulse.models.actions import Action, AlertSubscription, SentAlert
from pulse.models.inbox import InboxEpoch, InboxItem, ReleasedWeek
from pulse.models.published import Level, PublishedCell, PublishedReason, PublishedWeek, TodaySnapshot
from pulse.models.receipts import ContributorReceipt, RatingKey, RequestReceipt, ShiftCounter, ShiftReceipt
from pulse.models.roster import EnrolledDevice, EnrolmentCode, StaffMember, roster_entry
from pulse.models.structure import Department, ReasonTag, ShiftBand, SupportLink, Team
from pulse.models.tallies import OrgDayTally, OrgShiftTally, OrgWeekTally, TeamWeekReasonTally, TeamWeekTally
from pulse.models.tokens import TokenIssuance, TokenSeed

__all__ = [
    "Action",
    "AlertSubscription",
    "AuditEvent",
    "ContributorReceipt",
    "DashboardAccess",
    "Department",
    "EnrolledDevice",
    "EnrolmentCode",
    "InboxEpoch",
    "InboxItem",
    "Level",
    "OrgDayTally",
    "OrgShiftTally",
    "OrgWeekTally",
    "OrganisationSettings",
    "PublishedCell",
    "PublishedReason",
    "PublishedWeek",
    "RatingKey",
    "RatingMode",
    "ReasonTag",
    "ReleasedWeek",
    "RequestReceipt",
    "Role",
    "SentAlert",
    "ShiftBand",
    "ShiftCounter",
    "ShiftReceipt",
    "StaffMember",
    "SupportLink",
    "Team",
    "TeamWeekReasonTally",
    "TeamWeekTally",
    "TodaySnapshot",
    "TokenIssuance",
    "TokenSeed",
    "User",
    "roster_entry",
]
