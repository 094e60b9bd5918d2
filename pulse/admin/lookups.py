"""Finding what an admin address names: the thing, or the admin area's 404 page saying what is missing; and,
for what a manager may only touch in their own departments, the permission check after it (404, then 403)."""

from __future__ import annotations

from typing import TypeVar

from flask import abort

from pulse.admin.security import actor, require_department, require_team
from pulse.models import Department, StaffMember, Team, User
from pulse.runtime import db_session
from pulse.services import accounts, structure
from pulse.services.accounts import roster

T = TypeVar("T")


def found(thing: T | None, what: str) -> T:
    """`thing`, or a 404 ("There is no such <what>.") when the lookup came back empty."""
    if thing is None:
        abort(404, f"There is no such {what}.")
    return thing


def department(department_id: int, *, write: bool = False) -> Department:
    return found(structure.get_department(db_session(write=write), department_id), "department")


def team(team_id: int, *, write: bool = False) -> Team:
    return found(structure.get_team(db_session(write=write), team_id), "team")


def user(user_id: int) -> User:
    return found(accounts.get_user(db_session(), user_id), "account")


def person(person_id: int, *, write: bool = False) -> StaffMember:
    return found(roster.get_person(db_session(write=write), person_id), "person")


def managed_department(department_id: int, *, write: bool = False) -> Department:
    """The department, if the signed-in account may act in it."""
    result = department(department_id, write=write)
    require_department(result.id)
    return result


def managed_team(team_id: int, *, write: bool = False) -> Team:
    """The team, if the signed-in account may act in its department."""
    result = team(team_id, write=write)
    require_team(result)
    return result


def managed_person(person_id: int, *, write: bool = False) -> StaffMember:
    """A member of staff, if the signed-in account may act on someone on one of their teams."""
    result = person(person_id, write=write)
    roster.require_may_act_on(actor(), result)
    return result
