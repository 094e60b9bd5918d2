"""Publication benchmark: a large trust's three years of tallies, published and read back, on PostgreSQL.

    python -m benchmarks.publication [--weeks 156] [--teams 800] [--departments 40] [--quick]
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
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from benchmarks.common.database import DEFAULT_ADMIN_URL, check_local, server_version, throwaway_database
from benchmarks.common.report import print_targets
from benchmarks.common.statistics import Timing
from benchmarks.large_trust import (
    BANDS,
    REASONS,
    SEED,
    Generated,
    Organisation,
    Published,
    add_arguments,
    build,
    check_arguments,
    mondays,
)
from pulse import create_app
from pulse.config import Settings
from pulse.db import make_engine
from pulse.services.publication import audit_published

PUBLISH_WEEK_TARGET_S = 2.0
SERIES_P95_TARGET_MS = 50.0
# Issue 8: a year of every department's figures, in one request to /api/v1/figures/departments/weeks.
ALL_DEPARTMENTS_P95_TARGET_MS = 200.0
REQUESTS = 50
WARM_UP = 3
ALL_DEPARTMENT_ROUNDS = 5


# --- reading through the API ---------------------------------------------------------------------------


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


def run(admin_url: str, teams: int, departments: int, weeks: int, *, full: bool, audit: bool) -> Result:
    """Build, fill, publish and read one dataset in its own throwaway database."""
    result = Result(teams, departments, mondays(weeks))
    with throwaway_database(admin_url) as url:
        name = make_url(url).database
        print(f"\n[{teams} teams, {weeks} weeks] database {name}: migrating, building the organisation ...")
        built = build(url, teams, departments, result.weeks, random.Random(SEED))
        result.staff = built.organisation.staff
        result.generated, result.published = built.generated, built.published
        print("  reading ...", flush=True)
        read(result, url, built.now, built.organisation, full=full)
        if full:
            print("  exporting the CSV ...", flush=True)
            reader = Reader(url, built.now, random.Random(SEED))
            try:
                ms, body = reader.get("/api/v1/figures/export.csv")
            finally:
                reader.dispose()
            result.export = (ms, len(body), body.count(b"\n") - 1)
        if full and audit:
            print("  auditing every published week ...", flush=True)
            engine = make_engine(url)
            try:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument("--skip-audit", action="store_true", help="do not time audit_published")
    parser.add_argument("--skip-scale", action="store_true", help="do not build the smaller datasets")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL that may create databases")
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    check_local(parser, args.admin_url)
    args.server = server_version(args.admin_url)

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
