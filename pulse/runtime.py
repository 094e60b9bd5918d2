"""What one running Pulse holds: settings, the engine, the clock, and the session of the current request."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from pulse.clock import utcnow
from pulse.config import Settings

# A request publishes at most this many due weeks (about 0.35 s each for 800 teams), so that a long backlog
# is worked off over several requests, or at once by `pulse publish`, without a worker timing out.
WEEKS_PER_REQUEST = 4

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    write_session_factory: sessionmaker[Session]
    now: Callable[[], dt.datetime] = utcnow
    # A read replica (PULSE_READ_DATABASE_URL) for published figures; None: they are read from the primary.
    read_engine: Engine | None = None
    read_session_factory: sessionmaker[Session] | None = None


def after_fork(app: Flask) -> None:
    """In a process forked from one that built `app` (gunicorn's preloaded workers): drop, without closing,
    any pooled connection inherited from the parent, so that parent and child never share one (SQLAlchemy's
    advice for multiprocessing). The rating path's own connection notices a fork by itself. An app that is not
    Pulse's (the benchmarks serve a minimal one with the same gunicorn settings) has nothing to let go of."""
    rt: Runtime | None = app.extensions.get("pulse")
    if rt is None:
        return
    for engine in (rt.engine, rt.read_engine):
        if engine is not None:
            engine.dispose(close=False)


def runtime() -> Runtime:
    return current_app.extensions["pulse"]


def db_session(*, write: bool = False) -> Session:
    """The session of the current request (or CLI command); created on first use, closed at teardown.

    Pass write=True where the request will write: on SQLite it then takes the write lock when it begins.
    """
    if "db_session" not in g:
        factory = runtime().write_session_factory if write else runtime().session_factory
        g.db_session = factory()
    return g.db_session


def public_base_url() -> str:
    """The address staff reach Pulse at: PULSE_PUBLIC_URL, else the one this request came to, whose Host
    Flask has checked against TRUSTED_HOSTS (Settings.allowed_hosts: never unchecked without a public URL)."""
    from flask import request

    return runtime().settings.public_url.rstrip("/") or request.host_url.rstrip("/")


def local_today() -> dt.date:
    """The organisation's date now, in its time zone."""
    rt = runtime()
    return rt.now().astimezone(rt.settings.tz).date()


def current_k(session: Session) -> int:
    """k for what is published from now on: the admin area's setting, else PULSE_MIN_GROUP_SIZE."""
    from pulse.services.organisation import minimum_group_size

    return minimum_group_size(session, runtime().settings.min_group_size)


def read_session() -> Session:
    """The request's session for published figures: on the read replica when one is set, else db_session()."""
    factory = runtime().read_session_factory
    if factory is None:
        return db_session()
    if "read_session" not in g:
        g.read_session = factory()
    return g.read_session


def published_session() -> Session:
    """The session that readers of figures use, after publishing any week that has become due.

    Publishing happens in a short writing session of its own, always on the primary; the returned session only
    reads, from the replica when there is one. A replica decides what is due as it stands: while it lags, it
    may ask for a week the primary has just published (publish_due then finds nothing due and writes nothing),
    and the session returned may not show the newest week yet.
    """
    from pulse.services.publication import due_weeks, publish_due

    rt = runtime()
    settings = rt.settings
    session = read_session()
    grace = settings.grace
    if due_weeks(session, rt.now(), settings.tz, grace):
        session.rollback()  # end the read snapshot, so later reads see the new weeks
        with rt.write_session_factory() as writer:
            publish_due(writer, rt.now(), settings.tz, grace, current_k(writer), limit=WEEKS_PER_REQUEST)
            writer.commit()
    return session


def take_today_steps() -> dt.date:
    """Take any "today so far" step that is due; returns today's shift date.

    Like published_session: a read decides whether anything is due, and only then a short writing session
    takes it, so the dashboard and the today endpoint do not queue for the write lock on every request.
    """
    from pulse.services.publication import due_steps, take_due_steps

    rt = runtime()
    settings = rt.settings
    session = read_session()
    day, due = due_steps(session, rt.now(), settings.tz, current_k(session))
    if due:
        session.rollback()  # end the read snapshot, so the next read sees the step just taken
        with rt.write_session_factory() as writer:
            take_due_steps(writer, rt.now(), settings.tz, current_k(writer))
            writer.commit()
    return day


def close_db_session(_exc: BaseException | None = None) -> None:
    """End the request's sessions. A connection the database has cut (a restart, an administrator) cannot
    even roll back: it is thrown away, and the answer already made (a 503, say) stands rather than a 500."""
    for name in ("db_session", "read_session"):
        session = g.pop(name, None)
        if session is None:
            continue
        try:
            session.close()
        except DBAPIError as exc:
            log.warning("database connection lost while ending a request; discarded: %s", exc.orig)
            session.invalidate()
