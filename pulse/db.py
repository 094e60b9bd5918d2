"""The declarative base with a constraint naming convention, and engine/session construction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for PostgreSQL (psycopg 3) or SQLite, tuned for many small write transactions."""
    # No pre-ping: it costs a round trip per request. After a database restart the first statement on each
    # stale connection fails instead (answered 503 with Retry-After) and SQLAlchemy then replaces the pool.
    kwargs: dict[str, Any] = {"pool_pre_ping": False}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_timeout=10)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _begin), so that writers can take the write lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Deleted content is overwritten with zeros, not left in free pages (docs/anonymity.md A12, level C).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _begin(connection: Any) -> None:
    # In WAL mode a transaction that reads and then writes fails at once ("database is locked") if another
    # writer committed in between; writing sessions therefore BEGIN IMMEDIATE and queue for the lock instead.
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_session_factory(
    engine: Engine, *, write: bool = False, autocommit: bool = False
) -> sessionmaker[Session]:
    """Sessions for reading, or (write=True) for read-then-write work such as recording a rating.

    autocommit=True is for work whose every write is one atomic statement (a rating on PostgreSQL): each
    statement commits as it runs, which saves the BEGIN and COMMIT round trips. SQLite ignores it: there the
    writes take several statements and need their transaction.
    """
    bind = engine.execution_options(sqlite_begin="IMMEDIATE") if write else engine
    if autocommit and engine.dialect.name != "sqlite":
        bind = bind.execution_options(isolation_level="AUTOCOMMIT")
    return sessionmaker(bind=bind, expire_on_commit=False)


def ensure_sqlite_directory(url: str) -> None:
    """Create the folder of an on-disk SQLite database, so a fresh machine needs nothing set up."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
