"""Builders for the roster in tests: people on teams, issued codes, enrolled devices."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from pulse.models import RatingMode, StaffMember, Team
from pulse.services.accounts import roster
from pulse.services.organisation import set_rating_mode
from tests.conftest import LONDON

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=LONDON)  # the FakeClock's start
TODAY = NOW.date()
FORTNIGHT = dt.timedelta(days=14)


def put_on_team(session: Session, team: Team, *identifiers: str) -> list[StaffMember]:
    """Put these people on `team` (committed), making them as needed."""
    people = [
        roster.add_to_team(session, None, identifier, team, today=TODAY)[0] for identifier in identifiers
    ]
    session.commit()
    return people


def staff(count: int, start: int = 1) -> list[str]:
    """Identifiers like staff0001@example.nhs.uk, numbered from `start`."""
    return [f"staff{n:04d}@example.nhs.uk" for n in range(start, start + count)]


def verified(session: Session) -> None:
    set_rating_mode(session, RatingMode.VERIFIED)
    session.commit()


def issue(session: Session, person: StaffMember, now: dt.datetime = NOW) -> str:
    """A fresh code for `person` (committed)."""
    code = roster.issue_code(session, None, person, now=now, valid_for=FORTNIGHT).code
    session.commit()
    return code


def enrol(session: Session, person: StaffMember) -> str:
    """An enrolled device's credential for `person` (committed), through a personal code."""
    enrolment = roster.redeem_code(session, issue(session, person), now=NOW)
    session.commit()
    return enrolment.credential
