"""Switching the organisation between open and verified rating (docs/anonymity.md A7-A9)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import Department, RatingMode, Team, User
from pulse.services.accounts.change_log import record_change
from pulse.services.accounts.roster.headcount import roster_sizes
from pulse.services.errors import InvalidInput
from pulse.services.organisation import rating_mode, set_rating_mode

# What each mode promises, in the words the admin area and the command line use.
OPEN_PROMISE = (
    "Open: anyone with a team's rating link or poster can rate for that team. Ratings per shift are capped "
    "at the team's headcount, but someone with the link can still add ratings of their own, so small weeks "
    "cannot be protected against a colleague who does that and then subtracts their own ratings."
)
VERIFIED_PROMISE = (
    "Verified: only people on a team's roster can rate for it, once per shift, after enrolling their phone. "
    "Ratings stay anonymous: the phone holds blinded tokens, so Pulse cannot tell whose rating is whose. A "
    "team's headcount is then the number of active people on its roster."
)


class RosterMissing(InvalidInput):
    """Verified mode needs a roster for every active team; `teams` lack one."""

    def __init__(self, teams: list[Team]):
        names = "; ".join(f"{team.department.name} / {team.name}" for team in teams)
        lacking = "1 team has" if len(teams) == 1 else f"{len(teams)} teams have"
        super().__init__(
            "Every active team needs at least one active person on its roster before rating can be "
            f"verified. {lacking} none: {names}.",
            "rating_mode",
        )
        self.teams = teams


def teams_without_roster(session: Session) -> list[Team]:
    """Active teams with no active person on their roster, by department and name."""
    teams = list(
        session.scalars(
            select(Team).join(Department).where(Team.active.is_(True)).order_by(Department.name, Team.name)
        )
    )
    sizes = roster_sizes(session, [team.id for team in teams])
    return [team for team in teams if not sizes.get(team.id)]


def switch_rating_mode(
    session: Session, actor: User | None, mode: RatingMode, *, today: dt.date | None = None
) -> bool:
    """Change the organisation's rating mode on `today` (the organisation's date: weeks from the next Monday
    are published as verified), audited; False if it already was. Raises RosterMissing when switching to
    verified while an active team has no roster."""
    before = rating_mode(session)
    if mode == before:
        return False
    if mode == RatingMode.VERIFIED:
        missing = teams_without_roster(session)
        if missing:
            raise RosterMissing(missing)
    set_rating_mode(session, mode, since=today)
    record_change(session, actor, "settings.rating_mode", "rating", before=before.value, after=mode.value)
    return True
