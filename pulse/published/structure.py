"""The organisation as published: departments and their teams, a unit's name, a team's department, reasons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models.published import Level, PublishedCell, PublishedWeek


def unit_is_known(session: Session, level: Level, unit_id: int) -> bool:
    """Whether the unit appears in any published week."""
    found = session.scalar(
        select(PublishedCell.id)
        .where(PublishedCell.level == level, PublishedCell.unit_id == unit_id)
        .limit(1)
    )
    return found is not None


def units(session: Session) -> list[dict]:
    """Departments and their teams as of the latest published week (names as published)."""
    latest = session.scalar(select(PublishedWeek.id).order_by(PublishedWeek.week_start.desc()).limit(1))
    if latest is None:
        return []
    cells = session.scalars(
        select(PublishedCell).where(
            PublishedCell.week_id == latest, PublishedCell.level.in_([Level.DEPARTMENT, Level.TEAM])
        )
    ).all()
    departments: dict[int, dict[str, Any]] = {
        c.unit_id: {"id": c.unit_id, "name": c.name, "teams": []}
        for c in cells
        if c.level == Level.DEPARTMENT
    }
    for c in cells:
        if c.level == Level.TEAM and c.parent_id in departments:
            departments[c.parent_id]["teams"].append({"id": c.unit_id, "name": c.name})
    for department in departments.values():
        department["teams"].sort(key=lambda t: t["name"])
    return sorted(departments.values(), key=lambda d: d["name"])


def unit_name(session: Session, level: Level, unit_id: int) -> str | None:
    """The unit's name in the latest published week that holds it."""
    return session.scalar(
        select(PublishedCell.name)
        .join(PublishedWeek, PublishedWeek.id == PublishedCell.week_id)
        .where(PublishedCell.level == level, PublishedCell.unit_id == unit_id)
        .order_by(PublishedWeek.week_start.desc())
        .limit(1)
    )


def team_department(session: Session, team_id: int) -> dict | None:
    """The department a team belonged to in the latest published week that holds the team: its id and its
    name in that week (docs/anonymity.md A21: a team moved since stays where it was published)."""
    row = session.execute(
        select(PublishedCell.parent_id, PublishedCell.week_id)
        .join(PublishedWeek, PublishedWeek.id == PublishedCell.week_id)
        .where(PublishedCell.level == Level.TEAM, PublishedCell.unit_id == team_id)
        .order_by(PublishedWeek.week_start.desc())
        .limit(1)
    ).first()
    if row is None or row.parent_id is None:
        return None
    name = session.scalar(
        select(PublishedCell.name).where(
            PublishedCell.week_id == row.week_id,
            PublishedCell.level == Level.DEPARTMENT,
            PublishedCell.unit_id == row.parent_id,
        )
    )
    return {"id": row.parent_id, "name": name} if name is not None else None


def reason_labels(session: Session) -> dict[int, str]:
    from pulse.models.structure import ReasonTag

    return {tag_id: label for tag_id, label in session.execute(select(ReasonTag.id, ReasonTag.label))}
