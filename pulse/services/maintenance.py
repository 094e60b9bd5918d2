"""Routine maintenance, scheduled by Pulse itself: mix the inbox, destroy expired keys (and the token
seeds, with their issuance records, of weeks whose last slot has closed), publish due weeks, and every few
hours erase the history that raw database files keep (docs/anonymity.md A12, level C).

Raw files remember more than the rows a query sees: SQLite's write-ahead log holds every page as each
transaction left it, and PostgreSQL keeps dead row versions in its tables and every change in its WAL. After
a mix, the tallies' earlier versions show how much each batch added. Maintenance bounds how long that history
lives: on SQLite it truncates the write-ahead log at every tick (`PRAGMA secure_delete` already zeroes
what is deleted) and rebuilds the file every `maintenance_hours`; on PostgreSQL it rewrites the tables that
change (VACUUM FULL: new files holding live rows only), then switches to a new WAL segment and checkpoints,
so that the segments holding the old changes are removed (with `wal_recycle = off`, as our compose file sets,
they are deleted rather than renamed and reused with their contents intact).

What maintenance can do depends on the database role's rights; anything refused is reported, never hidden.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from pulse.config import Settings
from pulse.models import ShiftBand
from pulse.services.organisation import minimum_group_size
from pulse.services.publication import publish_due
from pulse.services.rating.keyfiles import KeyFiles
from pulse.services.rating.keys import purge_expired
from pulse.services.rating.mixer import MixReport, Schedule, mix
from pulse.services.tokens.keys import purge_closed_seeds

log = logging.getLogger(__name__)

# Tables whose rows change after they are written, or whose deleted rows held keys: rewritten on PostgreSQL.
REWRITTEN_TABLES = (
    "team_week_tally",
    "team_week_reason_tally",
    "org_shift_tally",
    "org_day_tally",
    "rating_key",
    "shift_counter",
    "request_receipt",
    "shift_receipt",
    "contributor_receipt",
    "inbox_item",
    "inbox_epoch",
    "today_snapshot",
    "token_seed",
    "token_issuance",
)
# How often the maintainer runs (pulse maintain, or the thread of pulse serve).
TICK_SECONDS = 30
# How long a rewrite waits for a table's lock before leaving it for the next run.
LOCK_TIMEOUT_MS = 5000


@dataclass
class EraseReport:
    """What one erase of raw-file history did, and what the database refused."""

    rewritten: list[str] = field(default_factory=list)
    wal: str = ""
    refused: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.refused


def erase_history(engine: Engine, *, rewrite: bool) -> EraseReport:
    """Erase what the raw files keep beyond the live rows. `rewrite`: also rebuild the tables (the slow part,
    every `maintenance_hours`); without it, only the write-ahead log (cheap, after each mix)."""
    if engine.dialect.name == "sqlite":
        return _erase_sqlite(engine, rewrite=rewrite)
    return _erase_postgres(engine, rewrite=rewrite)


def _erase_sqlite(engine: Engine, *, rewrite: bool) -> EraseReport:
    report = EraseReport()
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        if rewrite:
            raw.execute("VACUUM")
            report.rewritten.append("(the whole database file)")
        busy, _log_frames, _done = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        report.refused.append("wal_checkpoint(TRUNCATE): readers were busy; retried at the next run")
    else:
        report.wal = "truncated"
    return report


def _erase_postgres(engine: Engine, *, rewrite: bool) -> EraseReport:
    report = EraseReport()
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection:
        connection.execute(text(f"SET lock_timeout = {LOCK_TIMEOUT_MS}"))
        if rewrite:
            for table in REWRITTEN_TABLES:
                try:
                    connection.execute(text(f"VACUUM FULL {table}"))
                    report.rewritten.append(table)
                except DBAPIError as error:
                    report.refused.append(f"VACUUM FULL {table}: {_reason(error)}")
        # Twice: the first checkpoint after a switch may still need the segment before it.
        for statement in ("SELECT pg_switch_wal()", "CHECKPOINT", "SELECT pg_switch_wal()", "CHECKPOINT"):
            try:
                connection.execute(text(statement))
            except DBAPIError as error:
                report.refused.append(f"{statement}: {_reason(error)}")
                break
        else:
            report.wal = "switched and checkpointed"
        recycle = connection.execute(text("SHOW wal_recycle")).scalar()
        if recycle != "off":
            report.refused.append(
                "wal_recycle is on: old WAL segments are renamed and reused with their contents, not deleted "
                "(set wal_recycle = off, as docker-compose.yml does)"
            )
    return report


def _reason(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)


class MaintainerBusy(Exception):
    """Another maintainer already runs against this database."""


class MaintainerLock:
    """Only one maintainer per database: two mixers would each hold keys the other lacks. On PostgreSQL a
    session-level advisory lock on a connection of its own; on SQLite an exclusive lock on a file beside the
    keys. Held until release() or the process ends."""

    ADVISORY_KEY = 0x50554C5345  # "PULSE"

    def __init__(self, engine: Engine, keys: KeyFiles) -> None:
        self._engine = engine
        self._keys = keys
        self._connection: Any = None
        self._file: Any = None

    def acquire(self) -> None:
        if self._engine.dialect.name == "postgresql":
            connection = self._engine.connect()
            if not connection.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": self.ADVISORY_KEY}
            ).scalar():
                connection.close()
                raise MaintainerBusy(
                    "another `pulse maintain` (or `pulse serve`) already maintains this database"
                )
            connection.commit()
            self._connection = connection
            return
        import fcntl

        self._keys.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(self._keys.folder / ".maintainer.lock", "a")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            handle.close()
            raise MaintainerBusy(
                "another `pulse maintain` (or `pulse serve`) already maintains this database"
            ) from error
        self._file = handle

    def release(self) -> None:
        if self._connection is not None:
            # Unlocked explicitly: closing only returns the connection to the pool, lock and all.
            self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.ADVISORY_KEY})
            self._connection.commit()
            self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.close()
            self._file = None


def delta(session: Session, grace: dt.timedelta, dialect: str) -> dt.timedelta:
    """Delta of level C (docs/anonymity.md A12): ratings acknowledged longer ago than this cannot be told
    apart, in a copy of the database's raw files, from what the tallies say, with the maintainer running.

    On PostgreSQL the data directory never holds the inbox's keys or the pepper (PULSE_SECRET_KEY): a rating
    waiting in the inbox, its receipts and its team-shift's masked count read as noise from the moment it is
    acknowledged, and the tallies only ever move by a shift's k ratings, a closed shift, or a closed week. On
    SQLite (a trial) the data folder holds the secret key file too, so a team-shift's count can be unmasked
    until the shift closes for rating and the maintainer deletes it, then truncates the log: Delta is the
    longest shift band plus the grace period and one tick.
    """
    if dialect == "postgresql":
        return dt.timedelta(0)
    bands = session.scalars(select(ShiftBand).where(ShiftBand.active.is_(True))).all()
    longest = max((_length(band) for band in bands), default=dt.timedelta(hours=24))
    return longest + grace + dt.timedelta(seconds=TICK_SECONDS)


def _length(band: ShiftBand) -> dt.timedelta:
    start = dt.datetime.combine(dt.date(2000, 1, 1), band.start_time)
    end = dt.datetime.combine(dt.date(2000, 1, 1), band.end_time)
    return end - start if end > start else end + dt.timedelta(days=1) - start


@dataclass
class MaintenanceSettings:
    tz: ZoneInfo
    grace: dt.timedelta
    default_k: int  # PULSE_MIN_GROUP_SIZE; the admin area's k wins
    mix_minutes: int
    maintenance_hours: int

    @classmethod
    def of(cls, settings: Settings) -> MaintenanceSettings:
        """What the maintainer needs of Pulse's settings."""
        return cls(
            tz=settings.tz,
            grace=settings.grace,
            default_k=settings.min_group_size,
            mix_minutes=settings.mix_minutes,
            maintenance_hours=settings.maintenance_hours,
        )


@dataclass
class Maintainer:
    """One process's routine maintenance: `tick` is called about every 30 seconds (pulse maintain, or the
    thread `pulse serve` starts). Only one maintainer may run against a database at a time."""

    engine: Engine
    sessions: sessionmaker[Session]
    keys: KeyFiles
    last_rewrite: dt.datetime | None = None
    last_mix: MixReport | None = None
    last_erase: EraseReport | None = None

    def tick(
        self,
        now: dt.datetime,
        settings: MaintenanceSettings,
        *,
        force_mix: bool = False,
        drop_unreadable: bool = False,
    ) -> MixReport:
        """Mix what is due, destroy expired keys and token seeds, publish due weeks, and erase raw-file
        history when due."""
        with self.sessions() as session:
            k = minimum_group_size(session, settings.default_k)
        schedule = Schedule(settings.tz, settings.grace, k, settings.mix_minutes)
        report = mix(
            self.sessions, self.keys, now, schedule, force=force_mix, drop_unreadable=drop_unreadable
        )
        self.last_mix = report
        with self.sessions() as session:
            purge_expired(session, now, settings.tz, settings.grace)
            purge_closed_seeds(session, now, settings.tz, settings.grace)
            publish_due(session, now, settings.tz, settings.grace, k)
            session.commit()
        rewrite = self.last_rewrite is None or now - self.last_rewrite >= dt.timedelta(
            hours=settings.maintenance_hours
        )
        # SQLite's log is truncated at every tick (cheap: it holds at most 30 seconds' writes), so that
        # purged keys and counters leave it at once; the rest waits for the rewrite.
        if rewrite or self.engine.dialect.name == "sqlite":
            erase = erase_history(self.engine, rewrite=rewrite)
            self.last_erase = erase
            if rewrite:
                self.last_rewrite = now
            for refused in erase.refused:
                log.warning("maintenance: %s", refused)
        return report
