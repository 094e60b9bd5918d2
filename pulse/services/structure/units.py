"""Departments and teams, the organisation's units: reading them, their join codes, adding and changing them.

Changes made in the admin area are checked, so a clash is a clear message, not an error. Published weeks keep
the structure they were published with (docs/anonymity.md A21): nothing here alters them.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from pulse.models import Department, ShiftBand, Team
from pulse.services.errors import InvalidInput

# Crockford's base 32: digits and capital letters without I, L, O and U, so that nothing on a poster can be
# misread (l or 1, O or 0) and a code typed in any case, or with I, L or O, still finds its team.
# 13 characters = 65 random bits: short enough to type from a poster, far beyond guessing.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
JOIN_CODE_LENGTH = 13
JOIN_CODE_BITS = 5 * JOIN_CODE_LENGTH
CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_join_code() -> str:
    """A new team code in Crockford's base 32 (a dozen lines of code, so no library for it)."""
    value = secrets.randbits(JOIN_CODE_BITS)
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(JOIN_CODE_BITS - 5, -1, -5))


def normalise_join_code(code: str) -> str | None:
    """A code as typed from a poster (any case, spaces or hyphens, I or L for 1, O for 0) in the form it is
    stored in, or None if it cannot be a Crockford code at all (as codes made before them cannot)."""
    plain = "".join(code.split()).replace("-", "").upper().translate(CONFUSABLE)
    return plain if plain and all(c in CROCKFORD for c in plain) else None


def list_departments(session: Session, *, include_inactive: bool = False) -> list[Department]:
    stmt = select(Department).options(selectinload(Department.teams)).order_by(Department.name)
    if not include_inactive:
        stmt = stmt.where(Department.active.is_(True))
    return list(session.scalars(stmt))


def get_department(session: Session, department_id: int) -> Department | None:
    return session.get(Department, department_id, options=[selectinload(Department.teams)])


def list_teams(
    session: Session, *, department_id: int | None = None, include_inactive: bool = False
) -> list[Team]:
    stmt = select(Team).order_by(Team.department_id, Team.name)
    if department_id is not None:
        stmt = stmt.where(Team.department_id == department_id)
    if not include_inactive:
        stmt = stmt.where(Team.active.is_(True))
    return list(session.scalars(stmt))


def get_team(session: Session, team_id: int) -> Team | None:
    return session.get(Team, team_id)


def find_team_by_join_code(session: Session, join_code: str) -> Team | None:
    """The active team with this code: exactly as stored (codes made before Crockford codes mix cases), else
    as a Crockford code typed loosely. The caller can tell the second by team.join_code != join_code."""
    team = session.scalar(select(Team).where(Team.join_code == join_code, Team.active.is_(True)))
    if team is not None:
        return team
    normalised = normalise_join_code(join_code)
    if normalised is None or normalised == join_code:
        return None
    return session.scalar(select(Team).where(Team.join_code == normalised, Team.active.is_(True)))


def rotate_join_code(session: Session, team: Team) -> str:
    """Give `team` a new join code; the old one stops working at once (404 on the rating API)."""
    team.join_code = new_join_code()
    session.flush()
    return team.join_code


def set_active(unit: Team | ShiftBand, active: bool, today: dt.date) -> None:
    """Retire a team or shift band, or bring it back. A retirement is dated (the organisation's local date):
    publication keeps the unit in its weeks up to then, whether it was rated in them or not."""
    if unit.active and not active:
        unit.retired_on = today
    elif active:
        unit.retired_on = None
    unit.active = active


def add_department(session: Session, name: str) -> Department:
    department = Department(name=name)
    session.add(department)
    session.flush()
    return department


def add_team(
    session: Session, department: Department, name: str, headcount: int, active: bool = True
) -> Team:
    team = Team(
        department=department, name=name, headcount=headcount, active=active, join_code=new_join_code()
    )
    session.add(team)
    session.flush()
    return team


def create_department(session: Session, name: str) -> Department:
    _check_department_name(session, name)
    return add_department(session, name)


def update_department(session: Session, department: Department, *, name: str, active: bool) -> None:
    if name != department.name:
        _check_department_name(session, name)
    department.name = name
    department.active = active
    session.flush()


def create_team(session: Session, department: Department, name: str, headcount: int) -> Team:
    if not department.active:
        raise InvalidInput(f"{department.name} is not active.", "department_id")
    _check_team_name(session, department.id, name)
    return add_team(session, department, name, headcount)


def update_team(
    session: Session, team: Team, *, name: str, headcount: int, active: bool, today: dt.date
) -> None:
    """Rename, resize, retire or bring back a team; `today` dates a retirement (set_active)."""
    if name != team.name:
        _check_team_name(session, team.department_id, name)
    team.name = name
    team.headcount = headcount
    set_active(team, active, today)
    if not active:
        team.kiosk_token = None  # an inactive team takes no ratings, so its tablet stops too
    session.flush()


def move_team(session: Session, team: Team, department: Department) -> None:
    """Move a team to another department from now on; published weeks keep it where it was."""
    if department.id == team.department_id:
        raise InvalidInput(f"{team.name} is already in {department.name}.", "department_id")
    if not department.active:
        raise InvalidInput(f"{department.name} is not active.", "department_id")
    _check_team_name(session, department.id, team.name)
    team.department_id = department.id
    session.flush()
    session.refresh(team, ["department"])


def _check_department_name(session: Session, name: str) -> None:
    clash = select(Department.id).where(func.lower(Department.name) == name.lower())
    if session.scalar(clash) is not None:
        raise InvalidInput(f"There is already a department called {name}.", "name")


def _check_team_name(session: Session, department_id: int, name: str) -> None:
    clash = select(Team.id).where(Team.department_id == department_id, func.lower(Team.name) == name.lower())
    if session.scalar(clash) is not None:
        raise InvalidInput(f"That department already has a team called {name}.", "name")
