"""The large trust of the publication and dashboard benchmarks: 800 teams in 40 departments (about 20,000
staff), three years of tallies generated through apply_delta, and their publication (benchmarks.publishing).

Shift bands cover the whole day and 12 reason tags are named. Each ISO week is one aggregated TallyDelta,
committed on its own; colours follow the department's mood, the team's offset and winter (the demo's
winters, pulse.services.demo.winter_pressure). Runs repeat: a fixed seed and a fixed last week.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from benchmarks.common.database import vacuum_analyze
from benchmarks.publishing import Published, closes, publish
from pulse import migrate
from pulse.config import Settings
from pulse.db import make_engine
from pulse.models import (
    OrgShiftTally,
    TeamWeekReasonTally,
    TeamWeekTally,
)
from pulse.services import structure
from pulse.services.demo import winter_pressure
from pulse.services.tallies import ColourCounts, TallyDelta, apply_delta

SEED = 20260202
LAST_WEEK = dt.date(2026, 1, 26)  # the Monday of the newest week (2026-W05); fixed so that runs repeat
STAFF_PER_TEAM = 25  # 800 teams hold 20,000 staff
HEADCOUNT = (5, 50, 20)  # triangular (low, high, mode): mean 25, about 3% of teams below 10
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


# --- the whole dataset, built once -------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--weeks, --teams, --departments and --quick: the size of the large trust."""
    parser.add_argument("--weeks", type=int, default=None, help="ISO weeks of tallies (default 156)")
    parser.add_argument("--teams", type=int, default=None, help="teams (default 800)")
    parser.add_argument("--departments", type=int, default=None, help="departments (default 40)")
    parser.add_argument(
        "--quick", action="store_true", help="a fast check: 52 weeks, 200 teams, 10 departments"
    )


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill in the defaults of add_arguments' options (smaller with --quick) and refuse impossible sizes."""
    defaults = (52, 200, 10) if args.quick else (156, 800, 40)
    args.weeks = args.weeks or defaults[0]
    args.teams = args.teams or defaults[1]
    args.departments = args.departments or defaults[2]
    if args.weeks < 2:
        parser.error("--weeks must be at least 2")
    if not 1 <= args.departments <= args.teams:
        parser.error("need at least one department and at least as many teams as departments")


def mondays(weeks: int) -> list[dt.date]:
    """The Mondays of the last `weeks` ISO weeks up to LAST_WEEK, oldest first."""
    return [LAST_WEEK - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


@dataclass
class Built:
    organisation: Organisation
    generated: Generated
    published: Published
    now: dt.datetime  # just after the last week closed: nothing more is due


def build(url: str, teams: int, departments: int, weeks: list[dt.date], rng: random.Random) -> Built:
    """Migrate the empty database at `url`, build the organisation, generate `weeks` of tallies and publish
    them, with VACUUM ANALYZE after the writes as autovacuum would have run."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            org = build_organisation(session, teams, departments, rng)
        print(f"  generating {len(weeks)} weeks of tallies through apply_delta ...", flush=True)
        generated = generate(engine, org, weeks, rng)
        vacuum_analyze(engine)
        print(f"  done in {generated.total_s:.1f} s; publishing ...", flush=True)
        settings = Settings(database_url=url, env="test")
        published = publish(engine, weeks, settings)
        vacuum_analyze(engine)
        with Session(engine) as session:
            now = closes(session, weeks[-1], settings)
        seconds = published.due_s + published.week_s
        print(f"  published {published.due_weeks + 1} weeks in {seconds:.1f} s", flush=True)
    finally:
        engine.dispose()
    return Built(org, generated, published, now)
