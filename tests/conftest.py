"""Test fixtures: a migrated database (SQLite by default, PostgreSQL when PULSE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from pulse import create_app, migrate
from pulse.db import Base, make_engine
from tests.shared_app import SharedApps

POSTGRES_URL = os.environ.get("PULSE_TEST_DATABASE_URL", "")
# Every app the tests build signs with this run's own random key, so that none of them writes a key file into
# the working folder (pulse.secret_key makes one where no key is set; tests/test_secret_key.py tests that).
os.environ.setdefault("PULSE_SECRET_KEY", secrets.token_urlsafe(48))
LONDON = ZoneInfo("Europe/London")
HERE = Path(__file__).parent
# Where every test takes seconds, marked `slow` (`pytest -m "not slow"` leaves them out while you work): real
# browsers; the storage and unlinkability attacks; schemathesis; servers started as in production; the
# reliability runs under faults. Single slow tests elsewhere carry the mark themselves.
SLOW_PLACES = (
    "browser",
    "privacy",
    "fuzz/test_openapi_fuzz.py",
    "test_proxy.py",
    "test_deployment.py",
    "test_backup_restore.py",
    "reliability",
)


def pytest_report_header(config: pytest.Config) -> str:
    return f"pulse database: {'PostgreSQL' if POSTGRES_URL else 'SQLite'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="needs PostgreSQL: set PULSE_TEST_DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords and not POSTGRES_URL:
            item.add_marker(skip)
        if any(item.path.is_relative_to(HERE / place) for place in SLOW_PLACES):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def shared_apps(database_url: str, migrated_engine: Engine) -> Iterator[SharedApps]:
    """This worker's shared apps (tests/shared_app.py): built once, lent to one test at a time."""
    apps = SharedApps(database_url)
    yield apps
    apps.close()


def set_testing(app: Flask) -> None:
    app.config["TESTING"] = True


# The `app` fixture's settings; the clock and the data folder are the test's own.
APP_SETTINGS = {"env": "test", "dashboard": False, "min_group_size": 5}
# Pulse with the dashboard mounted, as it is served (the `dash_app` and `site` fixtures).
SITE_SETTINGS = {"env": "test", "min_group_size": 5}


@pytest.fixture
def app(  # type: ignore[no-untyped-def]
    request: pytest.FixtureRequest, clean_db: Engine, shared_apps: SharedApps, clock: FakeClock, tmp_path
):
    """Pulse without the dashboard, on the test's clock, with the sealed inbox open. Shared within a worker,
    unless the test is marked `own_app` (it changes the app itself)."""
    data_dir = tmp_path / "pulse-data"
    if request.node.get_closest_marker("own_app"):
        app = create_app(
            {"database_url": shared_apps.database_url, **APP_SETTINGS, "now": clock, "data_dir": data_dir}
        )
        set_testing(app)
        open_inbox(app)
        yield app
        app.extensions["pulse"].engine.dispose()
        return
    with shared_apps.get("app", APP_SETTINGS, set_testing).lent(clock, data_dir) as app:
        open_inbox(app)
        yield app


@pytest.fixture
def site(clean_db: Engine, shared_apps: SharedApps, clock: FakeClock) -> Iterator[Flask]:
    """Pulse with the dashboard mounted, as it is served, on the test's clock. Shared within a worker."""
    with shared_apps.get("site", SITE_SETTINGS).lent(clock) as app:
        yield app


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
