"""In verified mode a team's headcount is its roster size wherever headcount is read: publication's headcount
rule and the structure CSV export here (the admin pages and the structure API have their own tests)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import Level, PublishedCell
from pulse.services.publication import publish_week
from pulse.services.structure import export_structure
from tests.factories import add_week, make_org
from tests.factories_roster import put_on_team, staff, verified

K = 5
WEEK = dt.date(2026, 11, 9)
TODAY = dt.date(2026, 11, 18)


def team_shown(session: Session, team_id: int) -> bool:
    cell = session.scalars(
        select(PublishedCell).where(PublishedCell.level == Level.TEAM, PublishedCell.unit_id == team_id)
    ).one()
    return cell.red is not None


def test_publication_hides_a_team_whose_roster_is_below_k_in_verified_mode(session: Session) -> None:
    """Teams 1 and 2 are typed as 20 staff. Team 1's roster has 4 people, team 2's has 12: verified, team 1
    is hidden for its small headcount (and team 2 with it, by the atom rule), although each has 6 raters."""
    org = make_org(session, teams=3, headcount=20)
    put_on_team(session, org.teams[0], *staff(4))
    put_on_team(session, org.teams[1], *staff(12, start=10))
    put_on_team(session, org.teams[2], *staff(12, start=30))
    verified(session)
    add_week(session, org, WEEK, {0: (1, 2, 3, 6), 1: (1, 2, 3, 6), 2: (2, 2, 2, 6)})
    assert publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    assert not team_shown(session, org.teams[0].id)


def test_the_same_week_in_open_mode_shows_the_team(session: Session) -> None:
    """The control for the test above: open mode reads the typed 20, so team 1 is shown."""
    org = make_org(session, teams=3, headcount=20)
    put_on_team(session, org.teams[0], *staff(4))
    add_week(session, org, WEEK, {0: (1, 2, 3, 6), 1: (1, 2, 3, 6), 2: (2, 2, 2, 6)})
    assert publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    assert team_shown(session, org.teams[0].id)


def test_the_structure_export_gives_the_roster_size_in_verified_mode(session: Session) -> None:
    org = make_org(session, teams=2, headcount=20)
    put_on_team(session, org.teams[0], *staff(7))
    put_on_team(session, org.teams[1], *staff(3))
    assert ",Team 1,Emergency Department,20," in export_structure(session)
    verified(session)
    exported = export_structure(session)
    assert "team,Team 1,Emergency Department,7,yes" in exported
    assert "team,Team 2,Emergency Department,3,yes" in exported
