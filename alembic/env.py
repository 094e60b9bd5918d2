"""Alembic environment: metadata from pulse.db.Base, the URL from pulse.config (or a passed connection)."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

import pulse.models  # noqa: F401  - registers every table on Base.metadata
from pulse.config import Settings
from pulse.db import Base, ensure_sqlite_directory, make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    ensure_sqlite_directory(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        _configure(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Pulse migrations run online only: alembic upgrade head")
run_migrations_online()
