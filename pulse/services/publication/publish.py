"""Publication: turning a closed week's tallies into frozen published cells (docs/anonymity.md A15-A27).

Each ISO week is published once, after its last shift closed plus the grace period. Two trees share the
week's organisation total: the unit tree (organisation > departments > teams) and the time tree (organisation
> shift dates > shift bands). The atom rule runs on each; if either tree must hide the root, the whole week
stays dark, so that neither tree can give the other's hidden remainder away. The organisation's daily figures
are published with their week, never before it (the stricter reading of docs/anonymity.md A18: a day shown
earlier could not be hidden later when the week's atom rule needs it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import (
    Department,
    Level,
    OrgDayTally,
    OrgShiftTally,
    OrgWeekTally,
    PublishedCell,
    PublishedReason,
    PublishedWeek,
    ShiftBand,
    Team,
    TeamWeekReasonTally,
    TeamWeekTally,
    TodaySnapshot,
)
from pulse.services.accounts.roster import team_headcounts
from pulse.services.organisation import week_rating_mode
from pulse.services.publication.suppression import Cell, Tree, shown, suppress
from pulse.services.rating.inbox import oldest_pending_epoch, released_through
from pulse.services.shifts import day_closes_at, week_start
from pulse.services.sql import insert_for
from pulse.services.tallies import org_shift_totals

ORGANISATION = "Organisation"
# A node of either tree: (level, unit id, department id for teams or the shift date for days and shifts).
# "Today so far" steps hang below their shift as ("step" | "between steps" | "after last step", band, ...).
Node = tuple[Any, int, Any]
ROOT: Node = (Level.ORGANISATION, 0, None)


def _cell(node: Node, parent: Node | None, counts: Sequence[int], headcount: int | None = None) -> Cell:
    red, amber, green, n = counts
    return Cell(node, parent, red=red, amber=amber, green=green, n=n, headcount=headcount)


@dataclass(frozen=True)
class WeekTrees:
    """A week's two trees and the names and parents to freeze with them."""

    units: Tree
    times: Tree
    names: dict[Node, str]
    kept: frozenset[Node] = frozenset()  # "today so far" steps: public already, never hidden


def week_closes_at(
    bands: Iterable[ShiftBand], week: dt.date, tz: ZoneInfo, grace: dt.timedelta
) -> dt.datetime:
    return day_closes_at(list(bands), week + dt.timedelta(days=6), tz, grace)


def latest_closed_week(session: Session, now: dt.datetime, tz: ZoneInfo, grace: dt.timedelta) -> dt.date:
    bands = session.scalars(select(ShiftBand)).all()
    last_week = week_start(now.astimezone(tz).date()) - dt.timedelta(weeks=1)
    if now >= week_closes_at(bands, last_week, tz, grace):
        return last_week
    return last_week - dt.timedelta(weeks=1)


def due_weeks(session: Session, now: dt.datetime, tz: ZoneInfo, grace: dt.timedelta) -> list[dt.date]:
    """Closed weeks not yet published, oldest first (reads only; cheap when there is nothing to do).

    A week is due only once every rating it can hold is in the tallies: the mixer has released it, or no
    item is left in an inbox epoch opened before the week closed (tallies seeded by the demo, say).
    """
    latest = latest_closed_week(session, now, tz, grace)
    pending = oldest_pending_epoch(session)
    released = released_through(session)
    if pending is not None and (released is None or released < latest):
        bands = session.scalars(select(ShiftBand)).all()
        while week_closes_at(bands, latest, tz, grace) > pending and (released is None or latest > released):
            latest -= dt.timedelta(weeks=1)
    newest = session.scalar(select(func.max(PublishedWeek.week_start)))
    if newest is not None and newest >= latest:
        return []
    if newest is None:
        first_day = session.scalar(select(func.min(OrgShiftTally.shift_date)))
        first_team_week = session.scalar(select(func.min(TeamWeekTally.week_start)))
        starts = [week_start(d) for d in (first_day, first_team_week) if d is not None]
        if not starts:
            return []
        week = min(starts)
    else:
        week = newest + dt.timedelta(weeks=1)
    weeks = []
    while week <= latest:
        weeks.append(week)
        week += dt.timedelta(weeks=1)
    return weeks


def publish_due(
    session: Session, now: dt.datetime, tz: ZoneInfo, grace: dt.timedelta, k: int, *, limit: int | None = None
) -> list[dt.date]:
    """Publish closed weeks not yet published, oldest first, at most `limit` of them. Returns those published.

    A request publishes a few weeks at a time (a long backlog would outlast a worker's timeout), and
    `pulse publish` commits after each week until none is due.
    """
    today = now.astimezone(tz).date()
    weeks = due_weeks(session, now, tz, grace)[:limit]
    return [week for week in weeks if publish_week(session, week, k=k, today=today)]


def build_trees(session: Session, week: dt.date, frozen: dict[int, int] | None = None) -> WeekTrees:
    """The week's unit and time trees, from the tallies and the structure as it is now (frozen with them).

    `frozen` maps team id to department id as published, to rebuild a published week's trees for the audit.
    """
    names: dict[Node, str] = {ROOT: ORGANISATION}
    tallies = {
        t.team_id: t for t in session.scalars(select(TeamWeekTally).where(TeamWeekTally.week_start == week))
    }
    if frozen is None:
        # Hidden looks like empty (docs/anonymity.md A26): a team retired in or after the week is in it, rated
        # or not. (A team with tallies was active that week, so it is in already; the last clause only makes
        # sure every rating is counted.)
        in_week = Team.active.is_(True) | (Team.retired_on >= week) | Team.id.in_(tallies)
        teams = session.scalars(select(Team).where(in_week)).all()
    else:
        teams = session.scalars(select(Team).where(Team.id.in_(frozen))).all()
    departments = {d.id: d for d in session.scalars(select(Department))}
    headcounts = team_headcounts(session, teams)  # the roster size in verified mode
    cells: list[Cell] = []
    dept_totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for team in teams:
        t = tallies.get(team.id)
        figures = (t.red, t.amber, t.green, t.contributors) if t else (0, 0, 0, 0)
        dept_id = team.department_id if frozen is None else frozen[team.id]
        node: Node = (Level.TEAM, team.id, dept_id)
        names[node] = team.name
        cells.append(_cell(node, (Level.DEPARTMENT, dept_id, 0), figures, headcounts[team.id]))
        for i, value in enumerate((*figures, headcounts[team.id])):
            dept_totals[dept_id][i] += value
    org = [0, 0, 0, 0, 0]
    for dept_id, totals in dept_totals.items():
        dept_node: Node = (Level.DEPARTMENT, dept_id, 0)
        names[dept_node] = departments[dept_id].name
        cells.append(_cell(dept_node, ROOT, totals[:4], totals[4]))
        org = [a + b for a, b in zip(org, totals, strict=True)]
    cells.append(_cell(ROOT, None, org[:4], org[4]))
    units = Tree.build(cells)

    days = [week + dt.timedelta(days=i) for i in range(7)]
    bands = {b.id: b for b in session.scalars(select(ShiftBand))}
    shifts = {
        (s.shift_date, s.band_id): s
        for s in org_shift_totals(session, OrgShiftTally.shift_date.between(days[0], days[-1]))
    }
    bands_in_week = {
        b.id for b in bands.values() if b.active or (b.retired_on is not None and b.retired_on >= week)
    }
    band_ids = sorted(bands_in_week | {band for _, band in shifts})  # as for teams, above
    day_people = {
        d.shift_date: d.contributors
        for d in session.scalars(select(OrgDayTally).where(OrgDayTally.shift_date.between(days[0], days[-1])))
    }
    steps: dict[tuple[dt.date, int], list[TodaySnapshot]] = defaultdict(list)
    for snap in session.scalars(
        select(TodaySnapshot)
        .where(TodaySnapshot.shift_date.between(days[0], days[-1]))
        .order_by(TodaySnapshot.step)
    ):
        steps[(snap.shift_date, snap.band_id)].append(snap)
    time_cells: list[Cell] = []
    kept: set[Node] = set()
    week_total = [0, 0, 0, 0]
    for day in days:
        day_node: Node = (Level.DAY, 0, day)
        names[day_node] = day.isoformat()
        day_total = [0, 0, 0, 0]
        for band_id in band_ids:
            s = shifts.get((day, band_id))
            colours = (s.red, s.amber, s.green) if s else (0, 0, 0)
            # One rating per device per shift: a shift's ratings are its contributors.
            shift_counts = (*colours, sum(colours))
            shift_node: Node = (Level.SHIFT, band_id, day)
            names[shift_node] = bands[band_id].name
            time_cells.append(_cell(shift_node, day_node, shift_counts))
            time_cells.extend(_step_chain(shift_node, shift_counts, steps.get((day, band_id), []), kept))
            day_total = [a + b for a, b in zip(day_total, shift_counts, strict=True)]
        # A day's people are its distinct contributors, not its ratings: one person may rate two shifts.
        day_total[3] = min(day_people.get(day, 0), day_total[3]) if day_total[3] else 0
        time_cells.append(_cell(day_node, ROOT, day_total))
        week_total = [a + b for a, b in zip(week_total, day_total, strict=True)]
    # The week's people are its distinct contributors too: the same people rate on several days.
    week_people = session.get(OrgWeekTally, week)
    week_total[3] = min(week_people.contributors if week_people else 0, week_total[3]) if week_total[3] else 0
    time_cells.append(_cell(ROOT, None, week_total))
    return WeekTrees(units, Tree.build(time_cells), names, frozenset(kept))


def _step_chain(
    shift: Node, counts: Sequence[int], steps: list[TodaySnapshot], kept: set[Node]
) -> list[Cell]:
    """A band's "today so far" steps as nested sub-cells: step i holds step i-1 and what came between.

    Steps and the differences between them are public already; the tail after the last step is not.
    """
    if not steps:
        return []
    _, band_id, day = shift
    cells = []
    previous: Node | None = None
    previous_counts = (0, 0, 0, 0)
    for snap in steps:
        step_counts = (snap.red, snap.amber, snap.green, snap.red + snap.amber + snap.green)
        node: Node = ("step", band_id, (day, snap.step))
        kept.add(node)
        if previous is not None:
            between: Node = ("between steps", band_id, (day, snap.step))
            kept.add(between)
            difference = [a - b for a, b in zip(step_counts, previous_counts, strict=True)]
            cells.append(_cell(between, node, difference))
            cells.append(_cell(previous, node, previous_counts))
        previous, previous_counts = node, step_counts
    assert previous is not None
    cells.append(_cell(previous, shift, previous_counts))
    tail = [a - b for a, b in zip(counts, previous_counts, strict=True)]
    cells.append(_cell(("after last step", band_id, day), shift, tail))
    return cells


def decide(trees: WeekTrees, k: int) -> tuple[set, set]:
    """The cells of each tree that show figures. If either tree hides the root, nothing is shown."""
    unit_published = suppress(trees.units, k)
    time_published = suppress(trees.times, k, keep=trees.kept)
    if ROOT not in unit_published or ROOT not in time_published:
        return set(), set()
    return shown(trees.units, unit_published), shown(trees.times, time_published)


def publish_week(session: Session, week: dt.date, *, k: int, today: dt.date) -> bool:
    """Publish `week` once. False if it was already published (by this or a concurrent publisher)."""
    stmt = (
        insert_for(session, PublishedWeek)
        .values(week_start=week, k=k, published_on=today, rating_mode=week_rating_mode(session, week))
        .on_conflict_do_nothing(index_elements=["week_start"])
        .returning(PublishedWeek.id)
    )
    week_id = session.scalar(stmt)
    if week_id is None:
        return False
    trees = build_trees(session, week)
    unit_shown, time_shown = decide(trees, k)
    rows = []
    for tree, visible in ((trees.units, unit_shown), (trees.times, time_shown)):
        for key, cell in tree.cells.items():
            node = cast(Node, key)
            if (tree is trees.times and node == ROOT) or not isinstance(node[0], Level):
                continue  # the organisation's week is written once, from the unit tree; steps are elsewhere
            level, unit_id, extra = node
            is_shown = node in visible
            rows.append(
                {
                    "week_id": week_id,
                    "level": level,
                    "unit_id": unit_id,
                    "parent_id": extra if level in (Level.TEAM,) else None,
                    "name": trees.names[node],
                    "period": extra if level in (Level.DAY, Level.SHIFT) else week,
                    "red": cell.red if is_shown else None,
                    "amber": cell.amber if is_shown else None,
                    "green": cell.green if is_shown else None,
                    "contributors": cell.n if is_shown else None,
                }
            )
    # render_nulls: one multi-row INSERT, not one per pattern of nulls (shown and hidden cells alternate).
    session.execute(insert_for(session, PublishedCell).execution_options(render_nulls=True), rows)
    _publish_reasons(session, week, week_id, trees, unit_shown)
    return True


def _publish_reasons(
    session: Session, week: dt.date, week_id: int, trees: WeekTrees, unit_shown: set
) -> None:
    """Reason counts follow their unit's suppression: shown exactly where the unit's figures are shown."""
    parent_of = {cast(Node, node): cast(Node | None, cell.parent) for node, cell in trees.units.cells.items()}
    team_nodes = {node[1]: node for node in parent_of if node[0] == Level.TEAM}
    counts: dict[tuple[Node, int], int] = defaultdict(int)
    for row in session.scalars(select(TeamWeekReasonTally).where(TeamWeekReasonTally.week_start == week)):
        current = team_nodes.get(row.team_id)
        while current is not None:
            counts[(current, row.tag_id)] += row.ratings
            current = parent_of[current]
    rows = [
        {"week_id": week_id, "level": node[0], "unit_id": node[1], "tag_id": tag_id, "ratings": n}
        for (node, tag_id), n in sorted(counts.items(), key=str)
        if node in unit_shown and n > 0
    ]
    if rows:
        session.execute(insert_for(session, PublishedReason), rows)
