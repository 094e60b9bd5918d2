""" "You said, we did": the actions taken on concerns, shown to everyone beside the figures."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pulse.models.actions import Action
from pulse.published.weeks import iso_monday


def actions(session: Session, department_id: int | None = None) -> list[dict]:
    """ "You said, we did": the actions on a department's timeline (or every department's, for the
    organisation), oldest first. Not figures, but shown to everyone beside them."""
    stmt = (
        select(Action)
        .options(selectinload(Action.reasons), selectinload(Action.department))
        .where(Action.withdrawn.is_(False))
        .order_by(Action.taken_on, Action.id)
    )
    if department_id is not None:
        stmt = stmt.where(Action.department_id == department_id)
    return [
        {
            "id": action.id,
            "department_id": action.department_id,
            "department": action.department.name,
            "taken_on": action.taken_on,
            "week_start": iso_monday(action.taken_on),
            "summary": action.summary,
            "reasons": [tag.label for tag in action.reasons],
            "rebase": action.rebase,
        }
        for action in session.scalars(stmt)
    ]
