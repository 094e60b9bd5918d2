"""The rating path's own PostgreSQL connection: statements sent straight through psycopg.

A rating is one statement, and SQLAlchemy's machinery around it (session, pool checkout and return, setting
autocommit on each checkout, events, result wrapping) cost more CPU than the driver and the database together,
measured with py-spy under benchmarks/ingest.py. Each process therefore keeps one psycopg connection of its
own for ratings, in autocommit, made with the engine's address and connect arguments but outside its pool.
Statements are server-side prepared. Errors come out as SQLAlchemy's, so the API's 503 handler and the rating
path's retries work as for any other statement; a broken connection is dropped, and the next rating connects
afresh.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError


class DirectConnection:
    """One autocommit psycopg connection per process (made again after a fork), used under a lock."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("DirectConnection is for PostgreSQL")
        self._engine = engine
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[Any] | None = None
        self._pid = 0
        # Disposing of the engine (at shutdown, or a test's end) closes this connection too.
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def fetch_all(self, sql: bytes, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run `sql` (UTF-8, psycopg's %(name)s style) as one autocommitted statement; return its rows."""
        with self._lock:
            connection = self._connect()
            try:
                return connection.execute(sql, params, prepare=True).fetchall()
            except psycopg.Error as error:
                lost = bool(connection.broken or connection.closed)
                if lost:
                    self._drop()
                statement = sql.decode()
                raise DBAPIError.instance(
                    statement, params, error, psycopg.Error, hide_parameters=True, connection_invalidated=lost
                ) from error

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _connect(self) -> psycopg.Connection[Any]:
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        # A connection inherited across fork() belongs to the parent: never use it, never close it.
        self._connection = None
        # A new connection, not one from the engine's pool: after a database restart the pool may still hold
        # dead ones, and this one would then fail again.
        cargs, cparams = self._engine.dialect.create_connect_args(self._engine.url)
        try:
            connection = psycopg.connect(*cargs, **cparams, autocommit=True)
        except psycopg.Error as error:
            raise DBAPIError.instance(
                None, None, error, psycopg.Error, hide_parameters=True, connection_invalidated=True
            ) from error
        self._connection, self._pid = connection, os.getpid()
        return connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            connection.close()
