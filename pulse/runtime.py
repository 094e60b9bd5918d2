"""What one running Pulse holds: settings, the engine, the clock, and the session of the current request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from pulse.config import Settings

# A request publishes at most this many due weeks (about 0.35 s each for 800 teams), so that a long backlog
# is worked off over several requests, or at once by `pulse publish`, without a worker timing out.
WEEKS_PER_REQUEST = 4


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    write_session_factory: sessionmaker[Session]
    now: Callable[[], dt.datetime] = utcnow


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
    """The address staff reach Pulse at: PULSE_PUBLIC_URL, else the one this request came to."""
    from flask import request

    return runtime().settings.public_url.rstrip("/") or request.host_url.rstrip("/")


def current_k(session: Session) -> int:
    """k for what is published from now on: the admin area's setting, else PULSE_MIN_GROUP_SIZE."""
    from pulse.services.organisation import minimum_group_size

    return minimum_group_size(session, runtime().settings.min_group_size)


def published_session() -> Session:
    """The request's session, after publishing any week that has become due: what readers of figures use.

    Publishing happens in a short writing session of its own; the returned session only reads.
    """
    from pulse.services.publication import due_weeks, publish_due

    rt = runtime()
    settings = rt.settings
    session = db_session()
    grace = dt.timedelta(minutes=settings.grace_minutes)
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
    from pulse.services.today import due_steps, take_due_steps

    rt = runtime()
    settings = rt.settings
    session = db_session()
    k = current_k(session)
    day, due = due_steps(session, rt.now(), settings.tz, k)
    if due:
        session.rollback()  # end the read snapshot, so the next read sees the step just taken
        with rt.write_session_factory() as writer:
            take_due_steps(writer, rt.now(), settings.tz, k)
            writer.commit()
    return day


def close_db_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
