"""What one running Pulse holds: settings, the engine, the clock, and the session of the current request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from pulse.config import Settings


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


def close_db_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
