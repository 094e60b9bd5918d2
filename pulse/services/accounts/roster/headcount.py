"""A team's headcount, the one place it is read from: the typed number in open mode, the number of active
people on its roster in verified mode (docs/anonymity.md A8: contributors are at most the roster size).

Publication's headcount rule, the kiosk cap, the admin pages, the structure CSV and the structure API all ask
here, so the two modes can never disagree about how many staff a team has.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import RatingMode, StaffMember, Team, roster_entry
from pulse.services.organisation import rating_mode


def roster_sizes(session: Session, team_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Active people on each team's roster; a team with nobody on it is left out."""
    stmt = (
        select(roster_entry.c.team_id, func.count())
        .join(StaffMember, StaffMember.id == roster_entry.c.staff_member_id)
        .where(StaffMember.active.is_(True))
        .group_by(roster_entry.c.team_id)
    )
    if team_ids is not None:
        stmt = stmt.where(roster_entry.c.team_id.in_(list(team_ids)))
    return {team_id: count for team_id, count in session.execute(stmt)}


def team_headcounts(session: Session, teams: Iterable[Team]) -> dict[int, int]:
    """{team id: headcount} for `teams`, in the organisation's current rating mode."""
    teams = list(teams)
    if rating_mode(session) == RatingMode.OPEN:
        return {team.id: team.headcount for team in teams}
    sizes = roster_sizes(session, [team.id for team in teams]) if teams else {}
    return {team.id: sizes.get(team.id, 0) for team in teams}


def team_headcount(session: Session, team: Team) -> int:
    return team_headcounts(session, [team])[team.id]
