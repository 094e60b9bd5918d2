"""Databases for the benchmarks: a throwaway PostgreSQL database on this machine, the small organisation the
ingest and reliability benchmarks rate into, and the tally sums they check against what was acknowledged."""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOOPBACK = {None, "", "127.0.0.1", "localhost", "::1"}
TEAMS_PER_DEPARTMENT = 10
# Each team's headcount: so large that the open-mode cap (ratings per team and shift) never binds, while every
# rating still takes its step through the team-shift counter.
HEADCOUNT = 1_000_000


def check_local(parser: argparse.ArgumentParser, admin_url: str) -> None:
    """Stop with a usage error unless `admin_url` is a PostgreSQL on this machine."""
    if make_url(admin_url).host not in LOOPBACK:
        parser.error("this benchmark only talks to a PostgreSQL on this machine (127.0.0.1)")


def server_version(admin_url: str) -> str:
    """ "PostgreSQL 16.4", say: for the report's first line."""
    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return "PostgreSQL " + str(conn.scalar(text("SHOW server_version"))).split()[0]
    finally:
        engine.dispose()


@contextmanager
def throwaway_database(admin_url: str) -> Iterator[str]:
    """A new database `pulse_bench_<random>` on the server of `admin_url`, yielded as a URL and dropped
    afterwards, also on failure."""
    name = f"pulse_bench_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        print(f"Dropped database {name}.")


def vacuum_analyze(engine: Engine) -> None:
    """What autovacuum has long done on a live database: visibility map and planner statistics."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def migrate_and_seed(url: str, teams: int) -> list[str]:
    """Migrate, then add shift bands covering the whole day and `teams` teams; returns their join codes."""
    from sqlalchemy.orm import Session

    from pulse import migrate
    from pulse.db import make_engine
    from pulse.services import structure

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            structure.add_shift_band(session, "Early", dt.time(7, 0), dt.time(15, 0))
            structure.add_shift_band(session, "Late", dt.time(14, 30), dt.time(22, 30))
            structure.add_shift_band(session, "Night", dt.time(22, 0), dt.time(7, 30))
            codes = []
            for first in range(0, teams, TEAMS_PER_DEPARTMENT):
                department = structure.add_department(
                    session, f"Department {first // TEAMS_PER_DEPARTMENT + 1}"
                )
                for i in range(first, min(first + TEAMS_PER_DEPARTMENT, teams)):
                    team = structure.add_team(session, department, f"Team {i + 1}", HEADCOUNT)
                    codes.append(team.join_code)
            session.commit()
        return codes
    finally:
        engine.dispose()


def tally_sums(url: str) -> dict[str, int]:
    """Ratings held in each tally table, and contributors counted."""
    from pulse.models import OrgShiftTally, TeamWeekTally

    queries = {
        "team_week_tally": select(func.sum(TeamWeekTally.red + TeamWeekTally.amber + TeamWeekTally.green)),
        "org_shift_tally": select(func.sum(OrgShiftTally.red + OrgShiftTally.amber + OrgShiftTally.green)),
        "contributors": select(func.sum(TeamWeekTally.contributors)),
    }
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: int(conn.scalar(query) or 0) for name, query in queries.items()}
    finally:
        engine.dispose()
