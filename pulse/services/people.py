"""The people page's rules beyond accounts.py: choosing managers' departments by id, and never leaving the
organisation without an active administrator, even when two administrators act at the same moment."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import Department, Role, User
from pulse.services import accounts
from pulse.services.accounts import AccountError

LAST_ADMIN = (
    "This is the last active administrator: make someone else an administrator before deactivating "
    "this account."
)


def departments_by_id(session: Session, department_ids: Iterable[int]) -> list[Department]:
    """The departments with these ids, by name. Raises AccountError if any of them does not exist."""
    wanted = set(department_ids)
    if not wanted:
        return []
    found = list(
        session.scalars(select(Department).where(Department.id.in_(wanted)).order_by(Department.name))
    )
    if len(found) != len(wanted):
        raise AccountError("Choose departments from the list.", "department_ids")
    return found


def set_user_active(session: Session, actor: User, user: User, active: bool) -> None:
    """Deactivate or reactivate an account (accounts.set_active's rules), keeping one active administrator.

    The active administrators' rows are locked first (PostgreSQL), so that two administrators deactivating
    each other at once cannot both succeed: the second sees the first's change and is refused.
    """
    accounts.require_admin(actor)
    locked = select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id)
    admin_ids = set(session.scalars(locked.with_for_update()))
    if not active and user.role == Role.ADMIN and user.id != actor.id and not admin_ids - {user.id}:
        raise AccountError(LAST_ADMIN, "active")
    accounts.set_active(session, actor, user, active)  # refuses your own account (NotAllowed)
