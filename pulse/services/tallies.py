"""Tallies in memory and their upsert, shared by the mixer (rating.mixer) and bulk seeding (the demo)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from pulse.colours import COLOURS
from pulse.models import OrgDayTally, OrgShiftTally, OrgWeekTally, TeamWeekReasonTally, TeamWeekTally
from pulse.services.sql import insert_for


@dataclass
class ColourCounts:
    red: int = 0
    amber: int = 0
    green: int = 0

    def add(self, colour: str, n: int = 1) -> None:
        setattr(self, colour, getattr(self, colour) + n)

    @property
    def total(self) -> int:
        return self.red + self.amber + self.green


@dataclass
class TallyDelta:
    """Increments to apply, keyed exactly at the grains docs/anonymity.md A2 allows."""

    team_weeks: dict[tuple[int, dt.date], ColourCounts] = field(default_factory=dict)
    team_week_contributors: dict[tuple[int, dt.date], int] = field(default_factory=dict)
    team_week_reasons: dict[tuple[int, dt.date, int], int] = field(default_factory=dict)
    org_shifts: dict[tuple[dt.date, int], ColourCounts] = field(default_factory=dict)
    org_day_contributors: dict[dt.date, int] = field(default_factory=dict)
    org_week_contributors: dict[dt.date, int] = field(default_factory=dict)

    def add_rating(
        self,
        *,
        team_id: int,
        week: dt.date,
        shift_date: dt.date,
        band_id: int,
        colour: str,
        reason_ids: Iterable[int] = (),
        new_contributor: bool,
        new_day_contributor: bool,
        new_week_contributor: bool,
    ) -> None:
        self.team_weeks.setdefault((team_id, week), ColourCounts()).add(colour)
        if new_contributor:
            key = (team_id, week)
            self.team_week_contributors[key] = self.team_week_contributors.get(key, 0) + 1
        for tag_id in reason_ids:
            key3 = (team_id, week, tag_id)
            self.team_week_reasons[key3] = self.team_week_reasons.get(key3, 0) + 1
        self.org_shifts.setdefault((shift_date, band_id), ColourCounts()).add(colour)
        if new_day_contributor:
            self.org_day_contributors[shift_date] = self.org_day_contributors.get(shift_date, 0) + 1
        if new_week_contributor:
            self.org_week_contributors[week] = self.org_week_contributors.get(week, 0) + 1


def apply_delta(session: Session, delta: TallyDelta) -> None:
    """Add `delta` to the tallies with atomic upserts (row = row + n), safe under concurrent writers."""
    team_rows = [
        {
            "team_id": team_id,
            "week_start": week,
            "red": counts.red,
            "amber": counts.amber,
            "green": counts.green,
            "contributors": delta.team_week_contributors.get((team_id, week), 0),
        }
        for (team_id, week), counts in sorted(delta.team_weeks.items())
    ]
    _upsert_add(session, TeamWeekTally, team_rows, ["team_id", "week_start"], [*COLOURS, "contributors"])
    reason_rows = [
        {"team_id": t, "week_start": w, "tag_id": g, "ratings": n}
        for (t, w, g), n in sorted(delta.team_week_reasons.items())
    ]
    _upsert_add(session, TeamWeekReasonTally, reason_rows, ["team_id", "week_start", "tag_id"], ["ratings"])
    org_rows = [
        {"shift_date": d, "band_id": b, "red": c.red, "amber": c.amber, "green": c.green}
        for (d, b), c in sorted(delta.org_shifts.items())
    ]
    _upsert_add(session, OrgShiftTally, org_rows, ["shift_date", "band_id"], list(COLOURS))
    day_rows = [{"shift_date": d, "contributors": n} for d, n in sorted(delta.org_day_contributors.items())]
    _upsert_add(session, OrgDayTally, day_rows, ["shift_date"], ["contributors"])
    week_rows = [{"week_start": w, "contributors": n} for w, n in sorted(delta.org_week_contributors.items())]
    _upsert_add(session, OrgWeekTally, week_rows, ["week_start"], ["contributors"])


def org_shift_totals(session: Session, *where: ColumnElement[bool]) -> list[Row]:
    """Each organisation shift's ratings per colour: rows of shift_date, band_id, red, amber and green, in
    date and band order."""
    t = OrgShiftTally
    return list(
        session.execute(
            select(
                t.shift_date,
                t.band_id,
                func.sum(t.red).label("red"),
                func.sum(t.amber).label("amber"),
                func.sum(t.green).label("green"),
            )
            .where(*where)
            .group_by(t.shift_date, t.band_id)
            .order_by(t.shift_date, t.band_id)
        )
    )


def _upsert_add(
    session: Session, model: type, rows: list[dict], keys: list[str], counters: list[str]
) -> None:
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    stmt = insert_for(session, model)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={c: table.c[c] + stmt.excluded[c] for c in counters}
    )
    session.execute(stmt, rows)
