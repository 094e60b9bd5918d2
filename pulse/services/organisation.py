"""The organisation's own settings: k for future publications, and who may view the dashboard."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.config import MIN_K
from pulse.models import DashboardAccess, OrganisationSettings
from pulse.services.errors import InvalidInput

MAX_K = 100


def current_settings(session: Session) -> OrganisationSettings | None:
    return session.scalar(select(OrganisationSettings).order_by(OrganisationSettings.id).limit(1))


def minimum_group_size(session: Session, default: int) -> int:
    """k for buckets published from now on: the admin area's value, else PULSE_MIN_GROUP_SIZE."""
    row = current_settings(session)
    return row.min_group_size if row is not None and row.min_group_size is not None else default


def dashboard_access(session: Session) -> DashboardAccess:
    row = current_settings(session)
    return row.dashboard_access if row is not None else DashboardAccess.PUBLIC


def _settings_row(session: Session) -> OrganisationSettings:
    row = current_settings(session)
    if row is None:
        row = OrganisationSettings(dashboard_access=DashboardAccess.PUBLIC)
        session.add(row)
    return row


def set_minimum_group_size(session: Session, k: int) -> None:
    """Change k. Published weeks keep the k they were published with; weeks published later use this."""
    if not MIN_K <= k <= MAX_K:
        raise InvalidInput(f"k must be between {MIN_K} and {MAX_K}: it may never be below {MIN_K}.", "k")
    _settings_row(session).min_group_size = k
    session.flush()


def set_dashboard_access(session: Session, access: DashboardAccess) -> None:
    _settings_row(session).dashboard_access = access
    session.flush()
