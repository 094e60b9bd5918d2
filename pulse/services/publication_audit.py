"""`pulse audit`: the exact audit run over every published week, as the data stand now."""

from __future__ import annotations

from collections.abc import Hashable

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import Level, PublishedCell, PublishedWeek
from pulse.services.audit import AuditResult, audit_tree
from pulse.services.publication import ROOT, Node, build_trees


def node_of(cell: PublishedCell) -> Node:
    if cell.level == Level.ORGANISATION:
        return ROOT
    if cell.level == Level.TEAM:
        return (Level.TEAM, cell.unit_id, cell.parent_id)
    if cell.level == Level.DEPARTMENT:
        return (Level.DEPARTMENT, cell.unit_id, 0)
    return (cell.level, cell.unit_id, cell.period)


def audit_published(session: Session) -> tuple[int, AuditResult]:
    """Audit each published week with the structure it was published with. Returns (weeks, result)."""
    total = AuditResult()
    weeks = session.scalars(select(PublishedWeek).order_by(PublishedWeek.week_start)).all()
    for week in weeks:
        cells = session.scalars(select(PublishedCell).where(PublishedCell.week_id == week.id)).all()
        frozen = {c.unit_id: c.parent_id for c in cells if c.level == Level.TEAM and c.parent_id is not None}
        shown: set[Hashable] = {node_of(c) for c in cells if c.red is not None}
        trees = build_trees(session, week.week_start, frozen=frozen)
        shown |= trees.kept  # "today so far" steps were public as they were taken
        label = f"week of {week.week_start}: "
        total.merge(audit_tree(trees.units, shown & set(trees.units.cells), week.k, label=label))
        total.merge(audit_tree(trees.times, shown & set(trees.times.cells), week.k, label=label))
    return len(weeks), total
