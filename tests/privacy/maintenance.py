"""The maintenance Pulse schedules itself (pulse maintain), and Delta of level C (docs/anonymity.md A12), for
the attacks: the scenario runs the real maintainer on its clock, and the level C attacks protect the ratings
acknowledged more than Delta (pulse.services.maintenance.delta, from the app's settings) before the copy.
Beyond Pulse's own schedule, PostgreSQL's autovacuum and checkpointer may run at any time (the level C attack
reads the pages both before and after them), and SQLite checkpoints by itself only every 1,000 pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine

from pulse.services.maintenance import Maintainer, MaintenanceSettings, delta
from pulse.services.rating import KeyFiles

# The maintainer runs every 30 seconds; the scenario's clock jumps minutes between ratings, so it runs before
# each of them, as it would have by then.
INTERVAL = dt.timedelta(seconds=30)


def vacuum_and_checkpoint(engine: Engine) -> None:
    """What PostgreSQL's autovacuum and checkpointer do of their own accord, at a time of their choosing."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM"))
        connection.execute(text("CHECKPOINT"))


@dataclass
class Maintenance:
    """Pulse's own maintainer (pulse maintain), on the app's settings, driven by the scenario's clock."""

    run: Callable[[Any, dt.datetime], None]
    delta: dt.timedelta
    interval: dt.timedelta
    last: dt.datetime | None = None

    def start(self, app: Flask, now: dt.datetime) -> None:
        self.now(app, now)

    def due(self, app: Flask, now: dt.datetime) -> bool:
        """Run it if the schedule says so by `now` (the scenario calls this as its clock moves)."""
        if self.last is None or now - self.last >= self.interval:
            self.now(app, now)
            return True
        return False

    def now(self, app: Flask, now: dt.datetime) -> None:
        self.run(app.extensions["pulse"], now)
        self.last = now


def routine_maintenance(runtime: Any) -> Maintenance:
    """The maintainer of the app whose runtime is `runtime`. Its Delta is set once the scenario's
    organisation exists (it depends on the shift bands): see `measure_delta`."""
    settings = runtime.settings
    maintainer = Maintainer(runtime.engine, runtime.write_session_factory, KeyFiles(settings.inbox_keys))
    options = MaintenanceSettings.of(settings)

    def run(_runtime: Any, now: dt.datetime) -> None:
        maintainer.tick(now, options)

    return Maintenance(run=run, delta=dt.timedelta(0), interval=INTERVAL)


def measure_delta(runtime: Any) -> dt.timedelta:
    with runtime.session_factory() as session:
        grace = runtime.settings.grace
        return delta(session, grace, runtime.engine.dialect.name)
