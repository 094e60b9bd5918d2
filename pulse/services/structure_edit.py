"""Changes to the organisation made in the admin area: checked, so a clash is a clear message, not an error.

Published weeks keep the structure they were published with (PRIVACY.md L6): nothing here touches them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import Department, ReasonTag, ShiftBand, Team
from pulse.services import structure
from pulse.services.errors import InvalidInput


def create_department(session: Session, name: str) -> Department:
    _check_department_name(session, name)
    return structure.add_department(session, name)


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
    return structure.add_team(session, department, name, headcount)


def update_team(session: Session, team: Team, *, name: str, headcount: int, active: bool) -> None:
    if name != team.name:
        _check_team_name(session, team.department_id, name)
    team.name = name
    team.headcount = headcount
    team.active = active
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


def create_shift_band(session: Session, name: str, start: dt.time, end: dt.time) -> ShiftBand:
    if start == end:
        raise InvalidInput("A shift band must not start and end at the same time.", "end_time")
    existing = session.scalar(select(ShiftBand).where(func.lower(ShiftBand.name) == name.lower()))
    if existing is not None and existing.active:
        raise InvalidInput(f"There is already a shift band called {name}.", "name")
    if existing is not None:
        # A retired band comes back only as it was: its published history is dated by its old times.
        if (existing.start_time, existing.end_time) != (start, end):
            raise InvalidInput(
                f"A retired band is called {existing.name} ({existing.start_time:%H:%M} to "
                f"{existing.end_time:%H:%M}). Give the same times to bring it back, or choose another name.",
                "name",
            )
        existing.active = True
        session.flush()
        return existing
    return structure.add_shift_band(session, name, start, end)


def retire_shift_band(session: Session, band: ShiftBand) -> None:
    """Stop offering a band for new ratings. It stays, with its history, for published weeks."""
    if band.active and len(structure.list_shift_bands(session)) == 1:
        raise InvalidInput("Keep at least one shift band, or nobody can rate.", "band_id")
    band.active = False
    session.flush()


def create_reason_tag(session: Session, label: str) -> ReasonTag:
    existing = session.scalar(select(ReasonTag).where(func.lower(ReasonTag.label) == label.lower()))
    if existing is not None and existing.active:
        raise InvalidInput(f"There is already a reason called {label}.", "label")
    if existing is not None:  # bring a retired reason back, with its history
        existing.active = True
        session.flush()
        return existing
    return structure.add_reason_tag(session, label)


def retire_reason_tag(session: Session, tag: ReasonTag) -> None:
    """Stop offering a reason. It is kept, with its counts, for published weeks."""
    tag.active = False
    session.flush()


def _check_department_name(session: Session, name: str) -> None:
    clash = select(Department.id).where(func.lower(Department.name) == name.lower())
    if session.scalar(clash) is not None:
        raise InvalidInput(f"There is already a department called {name}.", "name")


def _check_team_name(session: Session, department_id: int, name: str) -> None:
    clash = select(Team.id).where(Team.department_id == department_id, func.lower(Team.name) == name.lower())
    if session.scalar(clash) is not None:
        raise InvalidInput(f"That department already has a team called {name}.", "name")
