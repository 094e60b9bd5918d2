"""Statements of the rating path sent straight through the database driver (PostgreSQL only).

A rating is two statements, and SQLAlchemy's execution machinery (events, compiled-cache lookup, result
wrapping) cost more CPU than the driver and the database together: about 0.14 ms a statement here, measured
with benchmarks/ingest.py. These two go to psycopg directly, on the session's own pooled connection, as
server-side prepared statements. Errors come out as SQLAlchemy's, so the API's 503 handler, the rating path's
StaleKey retry and the pool's handling of a lost connection work as for any other statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


def fetch_all(session: Session, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Run `sql` (psycopg's %(name)s style) on the session's connection and return its rows."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    try:
        return driver.execute(sql, params, prepare=True).fetchall()  # type: ignore[union-attr]
    except psycopg.Error as error:
        lost = bool(driver.broken or driver.closed)  # type: ignore[union-attr]
        if lost:  # as SQLAlchemy does on a disconnect: never hand this connection out again
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql, params, error, psycopg.Error, hide_parameters=True, connection_invalidated=lost
        ) from error
