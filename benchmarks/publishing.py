"""Publishing a generated history as the publication and dashboard benchmarks time it: publish_due up to the
week before the last, then publish_week on the last week alone; and that week's cells counted by level."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pulse.config import Settings
from pulse.models import Level, PublishedCell, PublishedReason, PublishedWeek, ShiftBand
from pulse.services.publication import build_trees, node_of, publish_due, publish_week, week_closes_at


@dataclass
class LevelCount:
    cells: int = 0
    shown: int = 0
    hidden: int = 0  # null figures although the cell holds ratings
    empty: int = 0  # null figures and no ratings


@dataclass
class Published:
    due_s: float
    due_weeks: int
    week_s: float
    levels: dict[str, LevelCount]
    reasons: int
    cells_total: int
    reasons_total: int

    @property
    def due_mean_s(self) -> float:
        return self.due_s / self.due_weeks if self.due_weeks else 0.0


def closes(session: Session, week: dt.date, settings: Settings) -> dt.datetime:
    """A moment just after `week` closed (its last shift ended, plus the grace period)."""
    bands = session.scalars(select(ShiftBand)).all()
    grace = dt.timedelta(minutes=settings.grace_minutes)
    return week_closes_at(bands, week, settings.tz, grace) + dt.timedelta(minutes=1)


def publish(engine: Engine, weeks: list[dt.date], settings: Settings) -> Published:
    """publish_due up to the week before the last, then the last week on its own with publish_week."""
    tz, k = settings.tz, settings.min_group_size
    grace = dt.timedelta(minutes=settings.grace_minutes)
    with Session(engine) as session:
        now = closes(session, weeks[-2], settings) if len(weeks) > 1 else None
        start = time.perf_counter()
        done = publish_due(session, now, tz, grace, k) if now else []
        session.commit()
        due_s = time.perf_counter() - start
        if done != weeks[:-1]:
            raise RuntimeError(f"publish_due published {len(done)} weeks, expected {len(weeks) - 1}")
        last = weeks[-1]
        today = closes(session, last, settings).astimezone(tz).date()
        start = time.perf_counter()
        if not publish_week(session, last, k=k, today=today):
            raise RuntimeError(f"week {last} was published already")
        session.commit()
        week_s = time.perf_counter() - start
        levels, reasons = last_week_counts(session, last)
        cells_total = session.scalar(select(func.count()).select_from(PublishedCell)) or 0
        reasons_total = session.scalar(select(func.count()).select_from(PublishedReason)) or 0
    return Published(due_s, len(done), week_s, levels, reasons, cells_total, reasons_total)


def last_week_counts(session: Session, week: dt.date) -> tuple[dict[str, LevelCount], int]:
    """Cells of the published `week` by level: shown, hidden (null but holding ratings) and empty."""
    week_id = session.scalar(select(PublishedWeek.id).where(PublishedWeek.week_start == week))
    trees = build_trees(session, week)
    held = {**trees.units.cells, **trees.times.cells}
    levels: dict[str, LevelCount] = {level.value: LevelCount() for level in Level}
    for cell in session.scalars(select(PublishedCell).where(PublishedCell.week_id == week_id)):
        count = levels[cell.level.value]
        count.cells += 1
        if cell.red is not None:
            count.shown += 1
        elif held[node_of(cell)].n > 0:
            count.hidden += 1
        else:
            count.empty += 1
    reasons = session.scalar(
        select(func.count()).select_from(PublishedReason).where(PublishedReason.week_id == week_id)
    )
    return levels, reasons or 0
