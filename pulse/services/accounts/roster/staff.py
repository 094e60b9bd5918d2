"""The roster, person by person: adding people to teams, taking them off, deactivating them. Each change is
written to the audit log with who made it; the audit log never holds anything about ratings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from pulse.models import EnrolledDevice, StaffMember, Team, User, roster_entry
from pulse.services.accounts.change_log import record_change
from pulse.services.accounts.roster.identifiers import identifier_or_none, normalise_identifier
from pulse.services.accounts.users import NotAllowed, may_act_in
from pulse.services.errors import InvalidInput


def team_label(team: Team) -> str:
    """A team as the audit log and the CSV name it: department, then team."""
    return f"{team.department.name} / {team.name}"


def find_person(session: Session, identifier: str) -> StaffMember | None:
    """The person with this identifier, however it is spelt (case of an email, spaces around it)."""
    normalised = identifier_or_none(identifier)
    if normalised is None:
        return None
    return session.scalar(select(StaffMember).where(StaffMember.identifier == normalised))


def get_person(session: Session, person_id: int) -> StaffMember | None:
    return session.get(StaffMember, person_id)


def find_or_create_person(session: Session, identifier: str, *, today: dt.date) -> tuple[StaffMember, bool]:
    """The person with this identifier, made (active) if there is none; True if made. InvalidInput for an
    identifier Pulse cannot take."""
    normalised = normalise_identifier(identifier)
    person = session.scalar(select(StaffMember).where(StaffMember.identifier == normalised))
    if person is not None:
        return person, False
    person = StaffMember(identifier=normalised, active=True, created_on=today)
    session.add(person)
    session.flush()
    return person, True


def is_on_team(session: Session, person: StaffMember, team: Team) -> bool:
    on = select(roster_entry.c.team_id).where(
        roster_entry.c.staff_member_id == person.id, roster_entry.c.team_id == team.id
    )
    return session.scalar(on) is not None


def add_to_team(
    session: Session, actor: User | None, identifier: str, team: Team, *, today: dt.date
) -> tuple[StaffMember, bool]:
    """Put a person on a team's roster (making the person if new). False if they were on it already."""
    person, _created = find_or_create_person(session, identifier, today=today)
    if not person.active:
        raise InvalidInput(
            f"{person.identifier} is deactivated. Reactivate them on their page first.", "identifier"
        )
    if is_on_team(session, person, team):
        return person, False
    session.execute(insert(roster_entry).values(staff_member_id=person.id, team_id=team.id))
    session.expire(person, ["teams"])
    record_change(session, actor, "roster.add", person.identifier, team=team_label(team))
    return person, True


def remove_from_team(session: Session, actor: User | None, person: StaffMember, team: Team) -> bool:
    """Take a person off a team's roster: their devices get no new tokens for it. False if not on it."""
    removed = session.execute(
        delete(roster_entry)
        .where(roster_entry.c.staff_member_id == person.id, roster_entry.c.team_id == team.id)
        .returning(roster_entry.c.team_id)
    ).all()
    if not removed:
        return False
    session.expire(person, ["teams"])
    record_change(session, actor, "roster.remove", person.identifier, team=team_label(team))
    return True


def set_person_active(session: Session, actor: User | None, person: StaffMember, active: bool) -> bool:
    """Deactivate (no new tokens, no enrolment, not counted in headcount) or reactivate someone. Their roster
    entries and devices stay, so reactivating restores them. False if nothing changed."""
    if person.active == active:
        return False
    person.active = active
    session.flush()
    record_change(session, actor, "staff.reactivate" if active else "staff.deactivate", person.identifier)
    return True


def may_act_on(actor: User, person: StaffMember) -> bool:
    """Administrators act on anyone; a manager on people on a team in a department they manage."""
    return actor.is_admin or any(may_act_in(actor, team.department_id) for team in person.teams)


def require_may_act_on(actor: User, person: StaffMember) -> None:
    if not may_act_on(actor, person):
        raise NotAllowed("You can only act on people on a team in the departments you manage.")


@dataclass(frozen=True)
class RosterLine:
    """One person on a team's roster, as the admin page lists them: never a code, never a credential."""

    person: StaffMember
    devices: int  # enrolled devices not revoked


def team_roster(session: Session, team: Team) -> list[RosterLine]:
    """Everyone on the team's roster (deactivated people too), by identifier."""
    devices = (
        select(EnrolledDevice.staff_member_id, func.count().label("devices"))
        .where(EnrolledDevice.revoked.is_(False))
        .group_by(EnrolledDevice.staff_member_id)
        .subquery()
    )
    stmt = (
        select(StaffMember, func.coalesce(devices.c.devices, 0))
        .join(roster_entry, roster_entry.c.staff_member_id == StaffMember.id)
        .outerjoin(devices, devices.c.staff_member_id == StaffMember.id)
        .where(roster_entry.c.team_id == team.id)
        .order_by(StaffMember.identifier)
    )
    return [RosterLine(person, count) for person, count in session.execute(stmt)]


def active_people_on_team(session: Session, team: Team) -> list[StaffMember]:
    stmt = (
        select(StaffMember)
        .join(roster_entry, roster_entry.c.staff_member_id == StaffMember.id)
        .where(roster_entry.c.team_id == team.id, StaffMember.active.is_(True))
        .order_by(StaffMember.identifier)
    )
    return list(session.scalars(stmt))


def active_teams_of(session: Session, person_id: int) -> list[Team]:
    """The active teams a person is on: those they may fetch tokens for (when they are active)."""
    stmt = (
        select(Team)
        .join(roster_entry, roster_entry.c.team_id == Team.id)
        .where(roster_entry.c.staff_member_id == person_id, Team.active.is_(True))
        .order_by(Team.id)
    )
    return list(session.scalars(stmt))
