"""Portable upserts: INSERT ... ON CONFLICT for PostgreSQL and SQLite alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, entity: Any) -> Any:
    """An INSERT construct that knows ON CONFLICT on the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(entity)
    if dialect == "sqlite":
        return sqlite.insert(entity)
    raise RuntimeError(f"Pulse supports PostgreSQL and SQLite, not {dialect}")
