"""The demo trust's staff roster: synthetic people (staff0001@demo.invalid, ...) on every team, as many as
its headcount, so that the demo can run with verified rating. .invalid is a reserved domain: no mail goes
there."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert
from sqlalchemy.orm import Session

from pulse.models import StaffMember, Team, roster_entry
from pulse.services.accounts import roster
from pulse.services.accounts.roster import IssuedCode
from pulse.services.demo.organisation import DemoOrganisation

DOMAIN = "demo.invalid"


def seed_roster(session: Session, organisation: DemoOrganisation, *, today: dt.date) -> int:
    """Put headcount synthetic people on each demo team (flushed, not committed); how many people in all.
    The roster size then equals the typed headcount, so both rating modes show the same figures."""
    people: list[StaffMember] = []
    entries: list[dict[str, int]] = []
    for team in organisation.teams:
        team_people = [
            StaffMember(identifier=f"staff{len(people) + n + 1:04d}@{DOMAIN}", active=True, created_on=today)
            for n in range(team.headcount)
        ]
        session.add_all(team_people)
        session.flush()
        people += team_people
        entries += [{"staff_member_id": person.id, "team_id": team.id} for person in team_people]
    if entries:
        session.execute(insert(roster_entry), entries)
    return len(people)


def trial_enrolment_code(
    session: Session, team: Team | None, *, now: dt.datetime, valid_for: dt.timedelta
) -> IssuedCode | None:
    """For `pulse demo --verified`: a personal enrolment code for the first active person on `team`'s roster,
    to try verified rating with (None if nobody there can enrol)."""
    if team is None:
        return None
    people = [line.person for line in roster.team_roster(session, team) if line.person.active]
    if not people:
        return None
    return roster.issue_code(session, None, people[0], now=now, valid_for=valid_for)
