"""The dashboard benchmark's datasets: the demo trust, made by `pulse demo` itself in a throwaway SQLite file,
or the large trust (benchmarks.large_trust) generated and published in a throwaway PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from benchmarks.common.database import throwaway_database
from benchmarks.large_trust import SEED, build, mondays


@dataclass
class Dataset:
    url: str
    now: dt.datetime
    weeks: list[dt.date]
    department_ids: list[int]
    team_ids: list[int]
    staff: int
    build_s: float


@contextmanager
def demo_trust() -> Iterator[Dataset]:
    """The organisation `pulse demo` makes, by that very command, in a throwaway SQLite file."""
    import tempfile

    from click.testing import CliRunner
    from sqlalchemy import create_engine, select

    from pulse.cli import cli
    from pulse.models import Department, PublishedWeek, Team

    with tempfile.TemporaryDirectory(prefix="pulse-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        start = time.perf_counter()
        env = {"PULSE_DATABASE_URL": url, "PULSE_ENV": "development", "PULSE_SECRET_KEY": ""}
        result = CliRunner().invoke(cli, ["demo", "--no-serve"], env=env)
        if result.exit_code != 0:
            raise RuntimeError(f"pulse demo failed: {result.output}")
        print(result.output.strip().splitlines()[-1], flush=True)
        engine = create_engine(url)
        try:
            with Session(engine) as session:
                weeks = list(
                    session.scalars(select(PublishedWeek.week_start).order_by(PublishedWeek.week_start))
                )
                departments = list(session.scalars(select(Department.id)))
                teams = list(session.scalars(select(Team.id)))
                staff = sum(session.scalars(select(Team.headcount)))
        finally:
            engine.dispose()
        yield Dataset(
            url, dt.datetime.now(dt.UTC), weeks, departments, teams, staff, time.perf_counter() - start
        )


@contextmanager
def large_trust(admin_url: str, teams: int, departments: int, weeks: int) -> Iterator[Dataset]:
    """benchmarks/large_trust.py's organisation and history, generated and published once; dropped after."""
    with throwaway_database(admin_url) as url:
        print(f"Database {make_url(url).database}: {teams} teams, {departments} departments, {weeks} weeks")
        start = time.perf_counter()
        built = build(url, teams, departments, mondays(weeks), random.Random(SEED))
        if not built.generated.consistent:
            raise RuntimeError("the organisation's shift tallies differ from the teams' tallies")
        org = built.organisation
        yield Dataset(
            url,
            built.now,
            mondays(weeks),
            [d.id for d in org.departments],
            [t.id for t in org.teams],
            org.staff,
            time.perf_counter() - start,
        )
