""" "You said, we did": actions recorded on a department's timeline, shown to everyone on the same charts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pulse.models import Action, Department, ReasonTag, User
from pulse.services.errors import InvalidInput

SUMMARY_LENGTH = 280


def record_action(
    session: Session,
    *,
    department: Department,
    taken_on: dt.date,
    summary: str,
    reason_ids: Iterable[int] = (),
    rebase: bool = False,
    recorded_by: User | None,
    today: dt.date,
) -> Action:
    """Put an action on the department's timeline. It may not be dated in the future."""
    summary = " ".join(summary.split())
    if not summary:
        raise InvalidInput("Say what changed, in a sentence staff will understand.", "summary")
    if len(summary) > SUMMARY_LENGTH:
        raise InvalidInput(f"Use at most {SUMMARY_LENGTH} characters.", "summary")
    if taken_on > today:
        raise InvalidInput(
            "Record an action once it has happened: the date cannot be in the future.", "taken_on"
        )
    wanted = set(reason_ids)
    reasons = list(session.scalars(select(ReasonTag).where(ReasonTag.id.in_(wanted)))) if wanted else []
    if len(reasons) != len(wanted):
        raise InvalidInput("Choose reasons from the list.", "reasons")
    action = Action(
        department=department,
        taken_on=taken_on,
        summary=summary,
        rebase=rebase,
        reasons=reasons,
        recorded_by_id=recorded_by.id if recorded_by is not None else None,
    )
    session.add(action)
    session.flush()
    return action


def withdraw_action(session: Session, action: Action) -> None:
    """Take an action off the charts (recorded by mistake). It is kept, withdrawn, in the audit trail."""
    action.withdrawn = True
    session.flush()


def get_action(session: Session, action_id: int) -> Action | None:
    return session.get(Action, action_id, options=[selectinload(Action.reasons)])


def list_actions(session: Session, department_id: int, *, include_withdrawn: bool = False) -> list[Action]:
    stmt = (
        select(Action)
        .options(selectinload(Action.reasons))
        .where(Action.department_id == department_id)
        .order_by(Action.taken_on.desc(), Action.id.desc())
    )
    if not include_withdrawn:
        stmt = stmt.where(Action.withdrawn.is_(False))
    return list(session.scalars(stmt))
