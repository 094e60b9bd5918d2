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
    now: Callable[[], dt.datetime] = utcnow


def runtime() -> Runtime:
    return current_app.extensions["pulse"]


def db_session() -> Session:
    """The session of the current request (or CLI command); created on first use, closed at teardown."""
    if "db_session" not in g:
        g.db_session = runtime().session_factory()
    return g.db_session


def close_db_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
