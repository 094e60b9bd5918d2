"""Test fixtures: a migrated database (SQLite by default, PostgreSQL when PULSE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from pulse import create_app, migrate
from pulse.db import Base, make_engine

POSTGRES_URL = os.environ.get("PULSE_TEST_DATABASE_URL", "")
# Every app the tests build signs with this run's own random key, so that none of them writes a key file into
# the working folder (pulse.secret_key makes one where no key is set; tests/test_secret_key.py tests that).
os.environ.setdefault("PULSE_SECRET_KEY", secrets.token_urlsafe(48))
LONDON = ZoneInfo("Europe/London")


def pytest_report_header(config: pytest.Config) -> str:
    return f"pulse database: {'PostgreSQL' if POSTGRES_URL else 'SQLite'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set PULSE_TEST_DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Apps built without a data folder of their own (PULSE_DATA_DIR) use one per test worker, never the
    working directory: it holds the mixer's keys."""
    previous = os.environ.get("PULSE_DATA_DIR")
    os.environ["PULSE_DATA_DIR"] = str(tmp_path_factory.mktemp("pulse-data"))
    yield
    if previous is None:
        os.environ.pop("PULSE_DATA_DIR", None)
    else:
        os.environ["PULSE_DATA_DIR"] = previous


class FakeClock:
    """A settable clock for the app; starts on a Wednesday at 10:00 in London (an Early shift)."""

    def __init__(self) -> None:
        self.current = dt.datetime(2026, 11, 18, 10, 0, tzinfo=LONDON)

    def __call__(self) -> dt.datetime:
        return self.current

    def set(self, value: dt.datetime) -> None:
        self.current = value if value.tzinfo else value.replace(tzinfo=LONDON)

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the PULSE_TEST_DATABASE_URL server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'pulse-test.db'}"
        return
    with throwaway_postgres(f"pulse_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(migrated_engine: Engine) -> Iterator[Engine]:
    yield migrated_engine
    with migrated_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def open_inbox(app) -> None:  # type: ignore[no-untyped-def]
    """Open the sealed inbox's first epoch, as the maintainer does when Pulse starts."""
    from pulse.services.rating import KeyFiles, ensure_open_epoch

    rt = app.extensions["pulse"]
    with rt.write_session_factory() as session:
        ensure_open_epoch(session, KeyFiles(rt.settings.inbox_keys), rt.now())
        session.commit()


@pytest.fixture
def app(clean_db: Engine, database_url: str, clock: FakeClock, tmp_path):  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "database_url": database_url,
            "env": "test",
            "now": clock,
            "dashboard": False,
            "min_group_size": 5,
            "data_dir": tmp_path / "pulse-data",
        }
    )
    app.config["TESTING"] = True
    open_inbox(app)
    yield app
    app.extensions["pulse"].engine.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def session(app) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    session = app.extensions["pulse"].session_factory()
    session.info["app"] = app  # so that helpers can mix the sealed inbox before they read tallies
    yield session
    session.close()


@pytest.fixture(autouse=True)
def _close_the_cli_apps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line builds an app of its own for every command a test runs. Close their database
    connections when the test ends, as the process that ran them would have: left open, two workers' pools
    reached PostgreSQL's 100 connections."""
    import pulse.cli

    made: list[Flask] = []
    build = pulse.cli._create_app

    def tracked() -> Flask:
        made.append(build())
        return made[-1]

    monkeypatch.setattr(pulse.cli, "_create_app", tracked)
    yield
    for app in made:
        runtime = app.extensions["pulse"]
        for engine in (runtime.engine, runtime.read_engine):
            if engine is not None:
                engine.dispose()
