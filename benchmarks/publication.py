"""Publication benchmark: a large trust's three years of tallies, published and read back, on PostgreSQL.

    python benchmarks/publication.py [--weeks 156] [--teams 800] [--departments 40] [--quick]
                                      [--skip-audit] [--skip-scale]

Builds a throwaway database with 800 teams in 40 departments (about 20,000 staff), 3 shift bands covering
the whole day and 12 reason tags; writes 156 ISO weeks of tallies through apply_delta (one aggregated
TallyDelta per week, committed per week); publishes 155 weeks with publish_due and the last one with
publish_week; reads the figures API in-process through the Flask test client; exports the CSV; audits every
published week. Smaller datasets (a quarter of the departments; one year) show how the costs grow. Prints a
table with the targets and exits 1 if one is missed. Every database it creates is dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingest import DEFAULT_ADMIN_URL, LOOPBACK, throwaway_database
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from pulse import create_app, migrate
from pulse.config import Settings
from pulse.db import make_engine
from pulse.models import (
    Level,
    OrgShiftTally,
    PublishedCell,
    PublishedReason,
    PublishedWeek,
    ShiftBand,
    TeamWeekReasonTally,
    TeamWeekTally,
)
from pulse.services import structure
from pulse.services.publication import build_trees, publish_due, publish_week, week_closes_at
from pulse.services.publication_audit import audit_published, node_of
from pulse.services.tallies import ColourCounts, TallyDelta, apply_delta

SEED = 20260202
LAST_WEEK = dt.date(2026, 1, 26)  # the Monday of the newest week (2026-W05); fixed so that runs repeat
STAFF_PER_TEAM = 25  # 800 teams hold 20,000 staff
HEADCOUNT = (5, 50, 20)  # triangular (low, high, mode): mean 25, about 3% of teams below 10
PUBLISH_WEEK_TARGET_S = 2.0
SERIES_P95_TARGET_MS = 50.0
# Issue 8: a year of every department's figures, in one request to /api/v1/figures/departments/weeks.
ALL_DEPARTMENTS_P95_TARGET_MS = 200.0
REQUESTS = 50
WARM_UP = 3
ALL_DEPARTMENT_ROUNDS = 5

BANDS = (
    ("Early", dt.time(7, 0), dt.time(15, 0), 0.45),
    ("Late", dt.time(14, 30), dt.time(22, 30), 0.35),
    ("Night", dt.time(22, 0), dt.time(7, 30), 0.20),
)
DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.75)  # fewer staff on at weekends
REASONS = (
    "Staffing levels", "Workload", "Missed breaks", "Equipment", "Patient acuity", "IT systems",
    "Rota changes", "Leadership", "Training", "Violence or aggression", "Teamwork", "Recognition",
)  # fmt: skip
SHIFTS_RATED = ((1, 2, 3, 4), (0.2, 0.55, 0.85, 1.0))  # shifts a contributor rates in a week (cumulative)
RED_CUT = 1.7  # red when the draw falls below sigmoid(-(score + RED_CUT)): rarer than amber, moves with it
WINTER_DIP = 1.0  # log-odds of green lost in deep winter by a department with winter sensitivity 1
TAGGED = {"red": 0.75, "amber": 0.45}  # chance that a red or amber rating names reasons
TWO_TAGS = 0.3  # chance that a tagged rating names a second reason


# --- the organisation and its tallies ------------------------------------------------------------------


@dataclass(frozen=True)
class Dept:
    id: int
    mood: float  # baseline log-odds of a green rating
    winter: float  # how much the department suffers in winter
    tag_cum: tuple[float, ...]  # cumulative weights over the reason tags


@dataclass(frozen=True)
class TeamSpec:
    id: int
    dept: Dept
    headcount: int
    participation: float  # share of the team that rates in a typical week
    morale: float  # the team's offset from its department, in log-odds


@dataclass
class Organisation:
    departments: list[Dept]
    teams: list[TeamSpec]
    band_ids: list[int]
    tag_ids: list[int]

    @property
    def staff(self) -> int:
        return sum(t.headcount for t in self.teams)


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split into `parts` varied sizes of at least 1."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    sizes = [max(1, int(total * w / sum(weights))) for w in weights]
    while sum(sizes) < total:
        sizes[rng.randrange(parts)] += 1
    while sum(sizes) > total:
        i = rng.randrange(parts)
        sizes[i] -= sizes[i] > 1
    return sizes


def headcounts(teams: int, rng: random.Random) -> list[int]:
    """Varied headcounts (5..50, a few below 10) summing to exactly STAFF_PER_TEAM per team."""
    low, high, mode = HEADCOUNT
    counts = [round(rng.triangular(low, high, mode)) for _ in range(teams)]
    while sum(counts) != STAFF_PER_TEAM * teams:
        i = rng.randrange(teams)
        if sum(counts) < STAFF_PER_TEAM * teams and counts[i] < high:
            counts[i] += 1
        elif sum(counts) > STAFF_PER_TEAM * teams and counts[i] > 10:  # small teams stay small
            counts[i] -= 1
    return counts


def build_organisation(session: Session, teams: int, departments: int, rng: random.Random) -> Organisation:
    """Shift bands, reason tags, departments and teams, through the structure service."""
    band_ids = [structure.add_shift_band(session, name, start, end).id for name, start, end, _ in BANDS]
    tag_ids = [structure.add_reason_tag(session, label).id for label in REASONS]
    sizes = split(teams, departments, rng)
    heads = iter(headcounts(teams, rng))
    depts, specs = [], []
    for d, size in enumerate(sizes, start=1):
        department = structure.add_department(session, f"Department {d:02d}")
        weights = [rng.uniform(0.2, 2.0) for _ in tag_ids]
        dept = Dept(
            department.id,
            rng.gauss(0.9, 0.5),
            rng.uniform(0.2, 1.2),
            tuple(sum(weights[: i + 1]) for i in range(len(weights))),
        )
        depts.append(dept)
        for t in range(1, size + 1):
            headcount = next(heads)
            team = structure.add_team(session, department, f"Team {d:02d}-{t:02d}", headcount)
            specs.append(TeamSpec(team.id, dept, headcount, rng.uniform(0.25, 0.70), rng.gauss(0.0, 0.4)))
    session.commit()
    return Organisation(depts, specs, band_ids, tag_ids)


def winter_pressure(day: dt.date) -> float:
    """0 from spring to autumn, 1 in late January."""
    return max(0.0, math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)) ** 1.5


def plan_week(org: Organisation, monday: dt.date, rng: random.Random) -> TallyDelta:
    """One ISO week of ratings, aggregated: team colour counts, contributors and reasons, and org shifts.

    Each contributor rates 1-4 shifts; each rating gets a colour from its team's score and, if red or amber,
    maybe one or two reasons. The organisation's shift tallies spread the very same ratings over the week's
    shift dates and bands, so per colour they sum exactly to the team tallies.
    """
    delta = TallyDelta()
    winter = winter_pressure(monday + dt.timedelta(days=3))
    week_totals = ColourCounts()
    for team in org.teams:
        dept = team.dept
        p = min(0.70, max(0.25, team.participation + rng.gauss(0.0, 0.04)))
        contributors = sum(rng.random() < p for _ in range(team.headcount))
        if contributors == 0:
            continue
        ratings = sum(rng.choices(SHIFTS_RATED[0], cum_weights=SHIFTS_RATED[1], k=contributors))
        score = dept.mood + team.morale - WINTER_DIP * dept.winter * winter + rng.gauss(0.0, 0.2)
        p_green = 1.0 / (1.0 + math.exp(-score))
        p_red = 1.0 / (1.0 + math.exp(score + RED_CUT))
        counts = ColourCounts()
        tags: Counter[int] = Counter()
        for _ in range(ratings):
            draw = rng.random()
            colour = "red" if draw < p_red else "green" if draw >= 1.0 - p_green else "amber"
            counts.add(colour)
            if colour != "green" and rng.random() < TAGGED[colour]:
                picked = rng.choices(
                    org.tag_ids, cum_weights=dept.tag_cum, k=2 if rng.random() < TWO_TAGS else 1
                )
                tags.update(set(picked))
        key = (team.id, monday)
        delta.team_weeks[key] = counts
        delta.team_week_contributors[key] = contributors
        for tag_id, n in tags.items():
            delta.team_week_reasons[(team.id, monday, tag_id)] = n
        for colour in ("red", "amber", "green"):
            week_totals.add(colour, getattr(counts, colour))
    slots = [(monday + dt.timedelta(days=d), band) for d in range(7) for band in org.band_ids]
    weights = [DAY_WEIGHTS[d] * BANDS[b][3] for d in range(7) for b in range(len(BANDS))]
    cum = [sum(weights[: i + 1]) for i in range(len(weights))]
    for slot in slots:
        delta.org_shifts[slot] = ColourCounts()
    for colour in ("red", "amber", "green"):
        for slot, n in Counter(rng.choices(slots, cum_weights=cum, k=getattr(week_totals, colour))).items():
            delta.org_shifts[slot].add(colour, n)
    return delta


@dataclass
class Generated:
    plan_s: float
    write_s: float
    rows: dict[str, int]
    ratings: int
    contributions: int
    shares: tuple[float, float, float]
    consistent: bool

    @property
    def total_s(self) -> float:
        return self.plan_s + self.write_s


def generate(engine: Engine, org: Organisation, weeks: list[dt.date], rng: random.Random) -> Generated:
    plan_s = write_s = 0.0
    with Session(engine) as session:
        for monday in weeks:
            start = time.perf_counter()
            delta = plan_week(org, monday, rng)
            planned = time.perf_counter()
            apply_delta(session, delta)
            session.commit()
            plan_s += planned - start
            write_s += time.perf_counter() - planned
        rows = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (TeamWeekTally, TeamWeekReasonTally, OrgShiftTally)
        }
        red, amber, green, contributions = session.execute(
            select(
                func.sum(TeamWeekTally.red),
                func.sum(TeamWeekTally.amber),
                func.sum(TeamWeekTally.green),
                func.sum(TeamWeekTally.contributors),
            )
        ).one()
        # Per week and colour, the organisation's shifts must hold exactly the teams' ratings.
        mismatched = session.scalar(
            text(
                """
                SELECT count(*) FROM (
                  SELECT week_start, sum(red) r, sum(amber) a, sum(green) g FROM team_week_tally GROUP BY 1
                ) t FULL JOIN (
                  SELECT date_trunc('week', shift_date)::date week_start, sum(red) r, sum(amber) a,
                         sum(green) g
                  FROM org_shift_tally GROUP BY 1
                ) o USING (week_start)
                WHERE t.r IS DISTINCT FROM o.r OR t.a IS DISTINCT FROM o.a OR t.g IS DISTINCT FROM o.g
                """
            )
        )
    total = red + amber + green
    return Generated(
        plan_s,
        write_s,
        rows,
        total,
        contributions,
        (red / total, amber / total, green / total),
        mismatched == 0,
    )


# --- publication ---------------------------------------------------------------------------------------


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


# --- reading through the API ---------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Timing:
    label: str
    samples: list[float]  # ms
    target_ms: float | None = None
    note: str = ""
    full_gcs: int = 0  # full (generation 2) garbage collections that ran during the timed requests

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)

    @property
    def max(self) -> float:
        return max(self.samples)

    @property
    def passed(self) -> bool:
        return self.target_ms is None or self.p95 < self.target_ms


class Reader:
    """Times GET requests through the app's test client: server time in-process, no network.

    Python's garbage collector runs as it would in a worker; full collections are counted, since each one
    pauses the request it falls in.
    """

    def __init__(self, url: str, now: dt.datetime, rng: random.Random):
        self.app = create_app({"database_url": url, "dashboard": False, "env": "test", "now": lambda: now})
        self.client = self.app.test_client()
        self.rng = rng
        self.full_gcs = 0
        gc.callbacks.append(self._count_gc)

    def _count_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            self.full_gcs += 1

    def get(self, path: str, expect: int | None = None) -> tuple[float, bytes]:
        start = time.perf_counter()
        response = self.client.get(path)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.get_data(as_text=True)[:500]}")
        body = response.get_data()
        if expect is not None and len(response.get_json()) != expect:
            raise RuntimeError(f"GET {path}: {len(response.get_json())} entries, expected {expect}")
        return elapsed, body

    def series(
        self, label: str, path: Callable[[], str], expect: int, target: float | None = SERIES_P95_TARGET_MS
    ) -> Timing:
        for _ in range(WARM_UP):
            self.get(path(), expect)
        gc.collect()  # every series starts from the same state
        before = self.full_gcs
        samples = [self.get(path(), expect)[0] for _ in range(REQUESTS)]
        return Timing(label, samples, target, full_gcs=self.full_gcs - before)

    def dispose(self) -> None:
        gc.callbacks.remove(self._count_gc)
        self.app.extensions["pulse"].engine.dispose()


# --- one dataset, end to end ---------------------------------------------------------------------------


@dataclass
class Result:
    teams: int
    departments: int
    weeks: list[dt.date]
    staff: int = 0
    generated: Generated | None = None
    published: Published | None = None
    reads: list[Timing] = field(default_factory=list)
    export: tuple[float, int, int] | None = None  # ms, bytes, rows
    audit: tuple[float, int, Any] | None = None  # s, weeks, AuditResult

    def read(self, label: str) -> Timing | None:
        return next((t for t in self.reads if t.label == label), None)


def vacuum_analyze(engine: Engine) -> None:
    """What autovacuum has long done on a live database: visibility map and planner statistics."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def run(admin_url: str, teams: int, departments: int, weeks: int, *, full: bool, audit: bool) -> Result:
    """Build, fill, publish and read one dataset in its own throwaway database."""
    mondays = [LAST_WEEK - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    result = Result(teams, departments, mondays)
    rng = random.Random(SEED)
    with throwaway_database(admin_url) as url:
        name = make_url(url).database
        print(f"\n[{teams} teams, {weeks} weeks] database {name}: migrating, building the organisation ...")
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            with Session(engine) as session:
                org = build_organisation(session, teams, departments, rng)
            result.staff = org.staff
            print(f"  generating {weeks} weeks of tallies through apply_delta ...", flush=True)
            result.generated = generate(engine, org, mondays, rng)
            vacuum_analyze(engine)
            print(f"  done in {result.generated.total_s:.1f} s; publishing ...", flush=True)
            settings = Settings(database_url=url, env="test")
            result.published = publish(engine, mondays, settings)
            vacuum_analyze(engine)
            with Session(engine) as session:
                now = closes(session, mondays[-1], settings)
            print(
                f"  done in {result.published.due_s + result.published.week_s:.1f} s; reading ...", flush=True
            )
            read(result, url, now, org, full=full)
            if full:
                print("  exporting the CSV ...", flush=True)
                reader = Reader(url, now, random.Random(SEED))
                try:
                    ms, body = reader.get("/api/v1/figures/export.csv")
                finally:
                    reader.dispose()
                result.export = (ms, len(body), body.count(b"\n") - 1)
            if full and audit:
                print("  auditing every published week ...", flush=True)
                with Session(engine) as session:
                    start = time.perf_counter()
                    audited, outcome = audit_published(session)
                    result.audit = (time.perf_counter() - start, audited, outcome)
        finally:
            engine.dispose()
    return result


def read(result: Result, url: str, now: dt.datetime, org: Organisation, *, full: bool) -> None:
    reader = Reader(url, now, random.Random(SEED + 1))
    rng = reader.rng
    weeks = result.weeks
    year = min(52, len(weeks))
    span = f"from={weeks[0].isoformat()}&to={(weeks[-1] + dt.timedelta(days=6)).isoformat()}"
    dept_ids = [d.id for d in org.departments]
    team_ids = [t.id for t in org.teams]
    base = "/api/v1/figures"

    def dept() -> int:
        return rng.choice(dept_ids)

    def team() -> int:
        return rng.choice(team_ids)

    try:
        reads = result.reads
        if full:
            reads.append(
                reader.series("organisation weeks, 1 year", lambda: f"{base}/organisation/weeks", year)
            )
        reads.append(
            reader.series("department weeks, 1 year", lambda: f"{base}/departments/{dept()}/weeks", year)
        )
        reads.append(reader.series("team weeks, 1 year", lambda: f"{base}/teams/{team()}/weeks", year))
        if len(weeks) > year:
            n = len(weeks)
            label = f"department weeks, {n} weeks"
            reads.append(reader.series(label, lambda: f"{base}/departments/{dept()}/weeks?{span}", n))
            reads.append(
                reader.series(f"team weeks, {n} weeks", lambda: f"{base}/teams/{team()}/weeks?{span}", n)
            )
        if not full:
            return
        reads.append(
            reader.series("organisation days, 1 year", lambda: f"{base}/organisation/days", 7 * year)
        )
        reads.append(
            reader.series("department reasons, 1 year", lambda: f"{base}/departments/{dept()}/reasons", year)
        )
        rounds = []
        gc.collect()
        before = reader.full_gcs
        for _ in range(ALL_DEPARTMENT_ROUNDS + 1):  # the first round warms up
            rounds.append(sum(reader.get(f"{base}/departments/{d}/weeks", year)[0] for d in dept_ids))
        label = f"all {len(dept_ids)} departments, 1 year, one by one (total)"
        note = f"total of a round, {ALL_DEPARTMENT_ROUNDS} rounds"
        reads.append(Timing(label, rounds[1:], note=note, full_gcs=reader.full_gcs - before))
        reads.append(
            reader.series(
                f"all {len(dept_ids)} departments, 1 year, one request",
                lambda: f"{base}/departments/weeks",
                len(dept_ids),
                target=ALL_DEPARTMENTS_P95_TARGET_MS,
            )
        )
    finally:
        reader.dispose()


# --- the report ----------------------------------------------------------------------------------------


def line(label: str, value: str, extra: str = "") -> None:
    print(f"  {label:<46} {value:>12}  {extra}".rstrip())


def print_report(main: Result, scale: list[Result], args: argparse.Namespace) -> bool:
    gen, pub = main.generated, main.published
    assert gen is not None and pub is not None
    checks: list[tuple[str, str, str, bool]] = []  # what, target, measured, passed
    weeks = main.weeks
    print()
    print(
        f"Pulse publication: {main.teams} teams in {main.departments} departments, {main.staff:,} staff, "
        f"{len(BANDS)} shift bands, {len(REASONS)} reason tags, {len(weeks)} ISO weeks "
        f"({weeks[0]} .. {weeks[-1]}), k={Settings().min_group_size}, {args.server}, "
        f"{os.cpu_count()} CPU cores"
    )

    per_week = 1000 / len(weeks)
    print("\nGeneration: one aggregated TallyDelta per week through apply_delta, committed per week")
    line("total", f"{gen.total_s:.1f} s", f"({gen.total_s * per_week:.0f} ms/week)")
    line("  planning the deltas in Python", f"{gen.plan_s:.1f} s")
    line("  apply_delta + commit", f"{gen.write_s:.1f} s", f"({gen.write_s * per_week:.0f} ms/week)")
    for table, rows in gen.rows.items():
        line(f"{table} rows", f"{rows:,}")
    line("ratings", f"{gen.ratings:,}", f"({gen.ratings / len(weeks):,.0f}/week)")
    line("contributors (summed over team-weeks)", f"{gen.contributions:,}")
    red, amber, green = gen.shares
    line("colours", "", f"{green:.0%} green, {amber:.0%} amber, {red:.0%} red")
    consistent = "equal" if gen.consistent else "differ"
    checks.append(("org shift tallies = team tallies, every week", "equal", consistent, gen.consistent))

    print("\nPublication")
    line(
        f"publish_due, {pub.due_weeks} weeks (one call)",
        f"{pub.due_s:.1f} s",
        f"(mean {pub.due_mean_s * 1000:.0f} ms/week)",
    )
    line(f"publish_week, week of {weeks[-1]} on its own", f"{pub.week_s * 1000:.0f} ms")
    line("published_cell rows, all weeks", f"{pub.cells_total:,}")
    line("published_reason rows, all weeks", f"{pub.reasons_total:,}")
    print(f"  cells of the week of {weeks[-1]} (hidden: null although it holds ratings):")
    print(f"    {'level':<14} {'cells':>7} {'shown':>7} {'hidden':>7} {'empty':>7}")
    for level, count in pub.levels.items():
        print(f"    {level:<14} {count.cells:>7} {count.shown:>7} {count.hidden:>7} {count.empty:>7}")
    print(f"    reason rows published: {pub.reasons:,}")
    target = f"< {PUBLISH_WEEK_TARGET_S:.0f} s"
    checks.append(
        ("publish_week, one week", target, f"{pub.week_s:.2f} s", pub.week_s < PUBLISH_WEEK_TARGET_S)
    )

    print(
        f"\nReads: server time in-process (Flask test client), {REQUESTS} requests after {WARM_UP} warm-up, "
        "random units"
    )
    print(f"  {'endpoint':<46} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'full GCs':>9}  target")
    for t in main.reads:
        target = f"p95 < {t.target_ms:.0f} ms" if t.target_ms else t.note
        print(f"  {t.label:<46} {t.p50:>8.1f} {t.p95:>8.1f} {t.max:>8.1f} {t.full_gcs:>9}  {target}")
        if t.target_ms:
            checks.append((t.label, f"p95 < {t.target_ms:.0f} ms", f"{t.p95:.1f} ms", t.passed))
    if main.export:
        ms, size, rows = main.export
        line("export.csv, once (no target)", f"{ms:,.0f} ms", f"{size / 1e6:.1f} MB, {rows:,} rows")

    if main.audit:
        seconds, audited, outcome = main.audit
        print("\nAudit: audit_published over every published week (no target)")
        line(f"{audited} weeks", f"{seconds:.1f} s", f"({seconds / audited * 1000:.0f} ms/week)")
        line(
            "cells / shown / hidden with ratings",
            f"{outcome.cells:,}",
            f"/ {outcome.shown:,} / {outcome.hidden_with_records:,}",
        )
        line("atoms / exact rank checks", f"{outcome.atoms:,}", f"/ {outcome.exact_checks:,}")
        for problem in outcome.problems[:10]:
            print(f"  PROBLEM: {problem}")
        checks.append(("audit finds nothing derivable", "0 problems", str(len(outcome.problems)), outcome.ok))
    else:
        print("\nAudit: skipped (--skip-audit)")

    print("\nScale: the same generator, smaller datasets (series columns: p95 ms)")
    heads = (
        "teams",
        "depts",
        "weeks",
        "gen s",
        "due ms/wk",
        "week ms",
        "dept 1y",
        "team 1y",
        "dept all",
        "team all",
    )
    print("  " + " ".join(f"{h:>9}" for h in heads))
    for r in sorted([*scale, main], key=lambda r: (r.teams, len(r.weeks))):
        g, p = r.generated, r.published
        assert g is not None and p is not None
        n = len(r.weeks)
        series = [
            r.read(label)
            for label in (
                "department weeks, 1 year",
                "team weeks, 1 year",
                f"department weeks, {n} weeks",
                f"team weeks, {n} weeks",
            )
        ]
        cells = [str(r.teams), str(r.departments), str(n), f"{g.total_s:.1f}"]
        cells += [f"{p.due_mean_s * 1000:.0f}", f"{p.week_s * 1000:.0f}"]
        cells += [f"{t.p95:.1f}" if t else "-" for t in series]
        print("  " + " ".join(f"{c:>9}" for c in cells))

    return print_targets(checks, width=46)


def print_targets(checks: list[tuple[str, str, str, bool]], width: int) -> bool:
    """The closing table of targets, PASS or FAIL each, and the overall result (also used by dashboard.py)."""
    print("\nTargets")
    for what, target, measured, passed in checks:
        print(f"  {what:<{width}} {target:>12} {measured:>10}  {'PASS' if passed else 'FAIL'}")
    good = all(passed for *_, passed in checks)
    print(f"\nRESULT: {'PASS' if good else 'FAIL'}")
    return good


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weeks", type=int, default=None, help="ISO weeks of tallies (default 156)")
    parser.add_argument("--teams", type=int, default=None, help="teams (default 800)")
    parser.add_argument("--departments", type=int, default=None, help="departments (default 40)")
    parser.add_argument(
        "--quick", action="store_true", help="a fast check: 52 weeks, 200 teams, 10 departments"
    )
    parser.add_argument("--skip-audit", action="store_true", help="do not time audit_published")
    parser.add_argument("--skip-scale", action="store_true", help="do not build the smaller datasets")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL that may create databases")
    args = parser.parse_args(argv)
    defaults = (52, 200, 10) if args.quick else (156, 800, 40)
    args.weeks = args.weeks or defaults[0]
    args.teams = args.teams or defaults[1]
    args.departments = args.departments or defaults[2]
    if args.weeks < 2:
        parser.error("--weeks must be at least 2")
    if not 1 <= args.departments <= args.teams:
        parser.error("need at least one department and at least as many teams as departments")
    if make_url(args.admin_url).host not in LOOPBACK:
        parser.error("this benchmark only talks to a PostgreSQL on this machine (127.0.0.1)")
    engine = make_engine(args.admin_url)
    try:
        with engine.connect() as conn:
            args.server = "PostgreSQL " + str(conn.scalar(text("SHOW server_version"))).split()[0]
    finally:
        engine.dispose()

    main_result = run(
        args.admin_url, args.teams, args.departments, args.weeks, full=True, audit=not args.skip_audit
    )
    scale = []
    if not args.skip_scale:
        if args.teams >= 8 and args.departments >= 4:  # a quarter of the departments and teams
            scale.append(
                run(
                    args.admin_url,
                    args.teams // 4,
                    args.departments // 4,
                    args.weeks,
                    full=False,
                    audit=False,
                )
            )
        if args.weeks > 52:  # one year of the same organisation
            scale.append(run(args.admin_url, args.teams, args.departments, 52, full=False, audit=False))
    return 0 if print_report(main_result, scale, args) else 1


if __name__ == "__main__":
    sys.exit(main())
