"""`pulse demo`'s trust, seeded in the order the command runs: the organisation with its roster, a shared
tablet and its actions; then its history up to yesterday, one week at a time, for the caller to commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pulse.services import structure
from pulse.services.demo.history import plan_history, seed_actions
from pulse.services.demo.organisation import DemoOrganisation, seed_organisation
from pulse.services.demo.roster import seed_roster
from pulse.services.rating.kiosk import enable_kiosk
from pulse.services.tallies import TallyDelta


@dataclass(frozen=True, slots=True)
class DemoTrust:
    organisation: DemoOrganisation
    staff: int  # synthetic people on the teams' rosters
    today: dt.date  # the organisation's date when it was seeded

    @property
    def history_end(self) -> dt.date:
        """Yesterday: today's shifts have not happened yet, so real ratings fill them."""
        return self.today - dt.timedelta(days=1)


def seed_trust(session: Session, *, seed: int, today: dt.date) -> DemoTrust:
    """The demo trust's structure, a roster as large as each team's headcount (so that verified rating can be
    tried), a shared tablet on one ward (so that kiosk mode can be too) and two actions on the timeline
    (flushed, not committed)."""
    organisation = seed_organisation(session, seed=seed)
    trust = DemoTrust(organisation, seed_roster(session, organisation, today=today), today)
    enable_kiosk(session, structure.list_teams(session)[0])
    seed_actions(session, organisation, end=trust.history_end)
    return trust


def plan_trust_history(trust: DemoTrust, *, weeks: int, seed: int) -> list[TallyDelta]:
    """`weeks` whole weeks of simulated ratings and the current week up to yesterday, one delta per week: the
    caller writes each with write_history and commits it before the next."""
    return plan_history(trust.organisation, end=trust.history_end, weeks=weeks, seed=seed)
