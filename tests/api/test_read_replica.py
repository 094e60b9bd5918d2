"""PULSE_READ_DATABASE_URL: published figures are read from the replica; ratings and publication write to the
primary; readiness checks both. The "replica" here is a second database seeded on its own, so every answer
shows which database it came from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pulse import create_app, migrate
from pulse.config import ConfigError, Settings
from pulse.db import make_engine, make_session_factory
from pulse.models import Level, PublishedCell, PublishedWeek, TeamWeekTally
from pulse.runtime import db_session, published_session
from pulse.services.publication import publish_due
from tests.conftest import LONDON, POSTGRES_URL, FakeClock, open_inbox, throwaway_postgres
from tests.factories import Org, add_week, make_org, mix, rating_body

WEEK = dt.date(2026, 11, 9)  # closed by the test clock's Wednesday 18 November
PRIMARY_FIGURES = {0: (2, 3, 5, 10), 1: (1, 5, 9, 15), 2: (1, 2, 6, 9)}
REPLICA_FIGURES = {0: (1, 1, 10, 12), 1: (0, 2, 10, 12), 2: (3, 3, 3, 9)}
GRACE = dt.timedelta(hours=2)


@contextmanager
def second_database(tmp_path: Path, revision: str = "head") -> Iterator[str]:
    """Another database of the kind under test, migrated to `revision`."""
    context = throwaway_postgres("pulse_replica") if POSTGRES_URL else _sqlite_file(tmp_path / "replica.db")
    with context as url:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine, revision)
        finally:
            engine.dispose()
        yield url


@contextmanager
def _sqlite_file(path: Path) -> Iterator[str]:
    yield f"sqlite:///{path}"


@pytest.fixture
def replica_url(tmp_path: Path) -> Iterator[str]:
    with second_database(tmp_path) as url:
        yield url


@pytest.fixture
def replica(replica_url: str) -> Iterator[Session]:
    engine = make_engine(replica_url)
    session = make_session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


def replica_app(database_url: str, replica_url: str, clock: FakeClock) -> Flask:
    return create_app(
        {
            "database_url": database_url,
            "read_database_url": replica_url,
            "env": "test",
            "now": clock,
            "dashboard": False,
            "min_group_size": 5,
        }
    )


@pytest.fixture
def app_with_replica(
    clean_db: Engine, database_url: str, replica_url: str, clock: FakeClock
) -> Iterator[Flask]:
    app = replica_app(database_url, replica_url, clock)
    open_inbox(app)
    yield app
    dispose(app)


def dispose(app: Flask) -> None:
    rt = app.extensions["pulse"]
    rt.engine.dispose()
    if rt.read_engine is not None:
        rt.read_engine.dispose()


@pytest.fixture
def primary(app_with_replica: Flask) -> Iterator[Session]:
    session = app_with_replica.extensions["pulse"].session_factory()
    yield session
    session.close()


def count(session: Session, model: type) -> int:
    session.rollback()  # a fresh snapshot: see what the app committed
    return session.scalar(select(func.count()).select_from(model)) or 0


def seed_differently(primary: Session, replica: Session) -> Org:
    """The same structure in both, different ratings; WEEK published on the replica only. Returns the
    replica's organisation."""
    add_week(primary, make_org(primary, teams=3), WEEK, PRIMARY_FIGURES)
    replica_org = make_org(replica, teams=3)
    add_week(replica, replica_org, WEEK, REPLICA_FIGURES)
    assert publish_due(replica, FakeClock()(), LONDON, GRACE, 5) == [WEEK]
    replica.commit()
    return replica_org


def test_figures_are_read_from_the_replica(
    app_with_replica: Flask, primary: Session, replica: Session
) -> None:
    replica_org = seed_differently(primary, replica)
    client = app_with_replica.test_client()
    weeks = client.get("/api/v1/figures/organisation/weeks").get_json()
    assert [(w["week_start"], w["red"], w["amber"], w["green"]) for w in weeks] == [("2026-11-09", 4, 6, 23)]
    team = replica_org.teams[1]  # looked up on the replica too
    series = client.get(f"/api/v1/figures/teams/{team.id}/weeks").get_json()
    assert [(w["red"], w["amber"], w["green"], w["contributors"]) for w in series] == [(0, 2, 10, 12)]
    export = client.get("/api/v1/figures/export.json").get_json()
    organisation = [(r["red"], r["amber"], r["green"]) for r in export if r["level"] == Level.ORGANISATION]
    assert organisation == [(4, 6, 23)]
    # The replica had nothing due, so nothing was published on the primary, whose figures differ.
    assert count(primary, PublishedWeek) == 0


def test_the_dashboard_reads_the_replica(app_with_replica: Flask, primary: Session, replica: Session) -> None:
    from dashboard import data

    seed_differently(primary, replica)
    with app_with_replica.test_request_context():
        latest = data.organisation("26")["latest"]
    assert (latest["red"], latest["amber"], latest["green"]) == (4, 6, 23)
    assert count(primary, PublishedWeek) == 0


def test_publication_writes_to_the_primary_once_while_the_replica_lags(
    app_with_replica: Flask, primary: Session, replica: Session
) -> None:
    """A week due on the replica is published on the primary; until the replica replays it, the reader does
    not see it and each read asks again, which publishes nothing more."""
    add_week(primary, make_org(primary, teams=3), WEEK, PRIMARY_FIGURES)
    add_week(replica, make_org(replica, teams=3), WEEK, PRIMARY_FIGURES)  # the replica, before publication

    client = app_with_replica.test_client()
    assert client.get("/api/v1/figures/organisation/weeks").get_json() == [], "the replica has not caught up"
    assert count(primary, PublishedWeek) == 1 and count(replica, PublishedWeek) == 0
    cells = count(primary, PublishedCell)
    assert cells > 0

    assert client.get("/api/v1/figures/organisation/weeks").get_json() == []
    assert (count(primary, PublishedWeek), count(primary, PublishedCell)) == (1, cells), "published once"
    assert count(replica, PublishedWeek) == 0


def test_ratings_are_written_to_the_primary(
    app_with_replica: Flask, primary: Session, replica: Session
) -> None:
    team = make_org(primary).team
    make_org(replica)
    client = app_with_replica.test_client()
    response = client.post("/api/v1/ratings", json=rating_body(team.join_code, "amber"))
    assert response.status_code == 201, response.get_json()
    mix(app_with_replica)
    primary.rollback()
    assert primary.scalar(select(func.sum(TeamWeekTally.amber))) == 1
    assert count(replica, TeamWeekTally) == 0


def test_without_a_replica_figures_are_read_from_the_primary(app: Flask) -> None:
    assert app.extensions["pulse"].read_engine is None
    with app.test_request_context():
        assert published_session() is db_session()


def test_with_a_replica_the_reading_session_is_the_replicas(
    app_with_replica: Flask, replica_url: str
) -> None:
    with app_with_replica.test_request_context():
        reader = published_session()
        assert reader is not db_session()
        assert reader.get_bind().url.render_as_string(hide_password=False) == replica_url


def test_ready_checks_the_replica_too(app_with_replica: Flask) -> None:
    client = app_with_replica.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.get_json()
    assert body["replica"] == "ok" and body["replica_migration"] == migrate.head_revision()


def test_a_replica_behind_the_code_leaves_pulse_ready_but_degraded(
    clean_db: Engine, database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    with second_database(tmp_path, "0004_accounts") as behind:
        app = replica_app(database_url, behind, clock)
        try:
            ready = app.test_client().get("/readyz")
        finally:
            dispose(app)
    assert ready.status_code == 200, "ratings go to the primary: the instance stays in its load balancer"
    body = ready.get_json()
    assert (body["status"], body["database"], body["replica"]) == (
        "degraded",
        "ok",
        "not at the expected migration",
    )
    assert body["replica_migration"] == "0004_accounts"


def test_an_unreachable_replica_leaves_pulse_ready_but_degraded(
    clean_db: Engine, database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    if POSTGRES_URL:
        nowhere = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    else:
        nowhere = f"sqlite:///{tmp_path / 'no-such-folder' / 'replica.db'}"
    app = replica_app(database_url, nowhere, clock)
    try:
        client = app.test_client()
        assert client.get("/healthz").status_code == 200, "alive: the primary answers"
        ready = client.get("/readyz")
    finally:
        dispose(app)
    assert ready.status_code == 200
    assert (ready.get_json()["status"], ready.get_json()["replica"]) == ("degraded", "unreachable")


def test_a_replica_must_be_the_same_kind_of_database() -> None:
    with pytest.raises(ConfigError, match="PULSE_READ_DATABASE_URL"):
        Settings.from_env(
            {
                "PULSE_DATABASE_URL": "postgresql+psycopg://pulse@db:5432/pulse",
                "PULSE_READ_DATABASE_URL": "sqlite:///replica.db",
            }
        )
