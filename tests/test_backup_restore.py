"""Backup and restore as docs/operations.md describes them: `pg_dump --format=custom`, `pg_restore` into an
empty database, then `pulse db upgrade`, `pulse purge` and `pulse mix --drop-unreadable` before Pulse serves
it.

The restored database must be at the same migration with no drift, hold exactly the same rows (tallies,
published figures, keys and digests, accounts, audit log, actions), answer every figure exactly as the
original did, and, once the purge has run, hold no key or digest whose period has closed.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from pulse import cli, create_app, migrate
from pulse.db import Base, make_engine
from pulse.services import structure
from pulse.services.followup import record_action
from tests.conftest import FakeClock, open_inbox, throwaway_postgres
from tests.factories import add_week, make_org, mix, rating_body

# Starts servers and restores while others run: never beside another such test (--dist loadgroup).
pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("many-connections")]

ROOT = Path(__file__).resolve().parent.parent
KEYS_AND_DIGESTS = ("rating_key", "shift_receipt", "contributor_receipt", "request_receipt", "shift_counter")
KEPT = (
    "team_week_tally",
    "team_week_reason_tally",
    "org_shift_tally",
    "published_week",
    "published_cell",
    "published_reason",
    "today_snapshot",
    "audit_event",
    "action",
    "user_account",
)


def libpq_url(url: str) -> str:
    """The URL as PostgreSQL's own programs take it (postgresql://, without SQLAlchemy's +psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(*args: str | Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not on PATH: install PostgreSQL's client programs (CI has them)")
    return path


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def make_pulse(url: str, clock: FakeClock, data_dir: Path) -> Flask:
    """Pulse on `url`, its maintainer's keys in `data_dir`: a restore may land on another server, whose
    maintainer never held the original's keys."""
    return create_app(
        {
            "database_url": url,
            "env": "test",
            "now": clock,
            "dashboard": False,
            "min_group_size": 5,
            "data_dir": data_dir,
            "secret_key": "the same secret key on both servers, as the docs ask",
        }
    )


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    with throwaway_postgres("pulse_backup") as original, throwaway_postgres("pulse_restored") as restored:
        engine = make_engine(original)
        migrate.upgrade(engine)
        engine.dispose()
        yield original, restored


MONDAY = dt.datetime(2026, 11, 23, 12, 0)  # the backup: after the weekly publication, during an Early shift
A_WEEK_LATER = dt.datetime(2026, 12, 1, 12, 0)  # the restore


def seed(app: Flask, clock: FakeClock) -> tuple[list[str], dict[str, object]]:
    """Two weeks of tallies; a third week rated through the rating API, with reasons; an administrator and an
    action; then, on Monday, the three weeks published and one rating in the new week. Returns the figure
    addresses to compare, and Monday's rating request."""
    session = app.extensions["pulse"].session_factory()
    try:
        org = make_org(session, teams=3)
        add_week(session, org, dt.date(2026, 11, 2), {0: (1, 1, 1, 3), 1: (2, 4, 8, 14), 2: (1, 2, 6, 9)})
        add_week(session, org, dt.date(2026, 11, 9), {0: (2, 3, 5, 10), 1: (1, 5, 9, 15), 2: (1, 2, 6, 9)})
        today = clock().date()
        record_action(
            session,
            department=org.department,
            taken_on=today,
            summary="Extra porter on nights",
            recorded_by=None,
            today=today,
        )
        session.commit()
        paths = [f"/api/v1/figures/teams/{team.id}/weeks" for team in org.teams]
        paths += [f"/api/v1/figures/teams/{org.teams[1].id}/reasons"]
        paths += [f"/api/v1/figures/departments/{org.department.id}/{kind}" for kind in ("weeks", "reasons")]
        join_code, tags = org.teams[1].join_code, [tag.id for tag in org.tags]
    finally:
        session.close()
    created = app.test_cli_runner().invoke(
        cli.create_admin,
        ["admin@trust.example", "--name", "Ada", "--password", "a perfectly good passphrase"],
    )
    assert created.exit_code == 0, created.output

    client = app.test_client()
    open_inbox(app)
    for i in range(7):  # Wednesday's Early shift: seven people, enough for a "today so far" step (k = 5)
        body = rating_body(join_code, ("green", "amber", "red")[i % 3], reasons=[tags[i % 3]])
        assert client.post("/api/v1/ratings", json=body).status_code == 201
    mix(app)
    assert client.get("/api/v1/figures/organisation/today").get_json()["ratings"] == 7

    clock.set(MONDAY)
    monday = rating_body(join_code, "green")
    assert client.post("/api/v1/ratings", json=monday).status_code == 201
    mix(app)
    assert len(client.get("/api/v1/figures/organisation/weeks").get_json()) == 3, "the first read publishes"
    # A rating still sealed in the inbox when the backup is taken: nobody can ever open it after a restore.
    assert client.post("/api/v1/ratings", json=rating_body(join_code, "red")).status_code == 201
    paths += [
        "/api/v1/figures/organisation/weeks",
        "/api/v1/figures/organisation/days",
        "/api/v1/figures/organisation/reasons",
        "/api/v1/figures/organisation/today",
        "/api/v1/figures/export.csv",
    ]
    return paths, monday


def test_a_backup_restores_whole_and_purge_then_destroys_closed_keys(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    pg_dump, pg_restore = tool("pg_dump"), tool("pg_restore")
    original_url, restored_url = databases
    clock = FakeClock()  # Wednesday 18 November 2026, 10:00: an Early shift
    original = make_pulse(original_url, clock, tmp_path / "original")
    try:
        paths, monday = seed(original, clock)
        answers = {path: original.test_client().get(path).get_data(as_text=True) for path in paths}
    finally:
        original.extensions["pulse"].engine.dispose()
    before = rows(original_url)
    assert [name for name in KEPT if not before[name]] == [], "every kind of lasting data is in the backup"
    assert before["shift_receipt"] and before["contributor_receipt"], "and the open periods' digests"
    assert len(before["inbox_item"]) == 1, "and a rating still sealed in the inbox"

    dump = tmp_path / "pulse.dump"
    run(pg_dump, "--format=custom", f"--file={dump}", f"--dbname={libpq_url(original_url)}")
    restore = ("--no-owner", "--exit-on-error", "--single-transaction")
    run(pg_restore, *restore, f"--dbname={libpq_url(restored_url)}", dump)

    # The same migration, and no drift between the models and the restored schema (as operators check it).
    env = {**os.environ, "PULSE_DATABASE_URL": restored_url}
    assert migrate.head_revision() in run(sys.executable, "-m", "alembic", "current", env=env)
    run(sys.executable, "-m", "alembic", "check", env=env)
    assert rows(restored_url) == before

    restored = make_pulse(restored_url, clock, tmp_path / "restored")
    try:
        client = restored.test_client()
        assert client.get("/readyz").status_code == 200
        for path in paths:
            assert client.get(path).get_data(as_text=True) == answers[path], path
        # The restored digests still hold: the device that rated on Monday cannot rate that shift again.
        again = client.post("/api/v1/ratings", json={**monday, "idempotency_key": secrets.token_hex(16)})
        assert again.status_code == 409 and again.get_json()["type"] == "urn:pulse:problem:already-rated"
        # Sequences came back too: new rows do not collide with restored ones.
        with restored.extensions["pulse"].session_factory() as session:
            structure.add_department(session, "Theatres")
            session.commit()

        # Restored a week later: the documented steps, `pulse db upgrade` then `pulse purge`.
        clock.set(A_WEEK_LATER)
        runner = restored.test_cli_runner()
        upgraded = runner.invoke(cli.db, ["upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        purged = runner.invoke(cli.purge)
        assert purged.exit_code == 0, purged.output
        after = rows(restored_url)
        assert {name: after[name] for name in KEPT} == {name: before[name] for name in KEPT}, (
            "the purge keeps these"
        )
        # The sealed rating's key stayed with the original's maintainer: the restore's last step drops it.
        dropped = runner.invoke(cli.mix_now, ["--drop-unreadable"])
        assert dropped.exit_code == 0, dropped.output
        assert "Dropped 1 sealed rating(s)" in dropped.output
        assert client.get("/readyz").get_json()["status"] == "ok"
    finally:
        restored.extensions["pulse"].engine.dispose()
    after = rows(restored_url)
    assert {name: after[name] for name in KEYS_AND_DIGESTS} == {name: [] for name in KEYS_AND_DIGESTS}
    assert after["inbox_item"] == [] and len(after["inbox_epoch"]) == 1, "a new epoch, whose key is here"
