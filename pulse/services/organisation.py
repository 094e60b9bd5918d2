"""The organisation's own settings: k for future publications, who may view the dashboard (and, when it is
for signed-in users, the generation of staff devices' cookies), and who may rate."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.config import MIN_K
from pulse.models import DashboardAccess, OrganisationSettings, RatingMode
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
        row = OrganisationSettings(dashboard_access=DashboardAccess.PUBLIC, dashboard_generation=1)
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


def rating_mode(session: Session) -> RatingMode:
    """Open (the join code alone) or verified (anonymous tokens for people on the roster); open by default."""
    row = current_settings(session)
    return row.rating_mode if row is not None else RatingMode.OPEN


def set_rating_mode(session: Session, mode: RatingMode, *, since: dt.date | None = None) -> None:
    """Store the mode, switched on `since` (today, in the organisation's time zone; None if not known, and
    then weeks are published as open). Switch through pulse.services.accounts.roster.switch_rating_mode, which
    checks the rosters."""
    row = _settings_row(session)
    row.rating_mode = mode
    row.rating_mode_since = since
    session.flush()


def week_rating_mode(session: Session, week: dt.date) -> RatingMode:
    """The mode the week starting on Monday `week` was rated in, for publishing it after it has closed:
    verified only if the mode is verified now and was switched on before that Monday, so that every rating
    of the week needed a token. A week in which the mode changed, or after, is open (the weaker promise)."""
    row = current_settings(session)
    if row is None or row.rating_mode != RatingMode.VERIFIED or row.rating_mode_since is None:
        return RatingMode.OPEN
    return RatingMode.VERIFIED if row.rating_mode_since < week else RatingMode.OPEN


def dashboard_generation(session: Session) -> int:
    row = current_settings(session)
    return row.dashboard_generation if row is not None else 1


def revoke_dashboard_devices(session: Session) -> int:
    """End every staff device's dashboard access; each may have it again by opening its team's rating link.
    Returns the new generation."""
    row = _settings_row(session)
    row.dashboard_generation = (row.dashboard_generation or 1) + 1
    session.flush()
    return row.dashboard_generation
