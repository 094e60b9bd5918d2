"""Running the Alembic migrations from Pulse itself (pulse db upgrade, pulse demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

PACKAGE_DIR = Path(__file__).resolve().parent


def script_location() -> Path:
    """The migrations folder: the repository's alembic/ in a checkout, pulse/_alembic in a wheel."""
    for candidate in (PACKAGE_DIR.parent / "alembic", PACKAGE_DIR / "_alembic"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("Pulse's migrations are missing from this installation")


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["configure_logging"] = False
    if engine is not None:
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def check(engine: Engine) -> None:
    """Raise if the models and the migrated database differ (alembic check)."""
    with engine.connect() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.check(config)


def head_revision() -> str | None:
    """The newest migration this installation ships (read once from the files; cheap to call again)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def database_revision(connection: Connection) -> str | None:
    """The migration the database is at, or None before the first one."""
    return MigrationContext.configure(connection).get_current_revision()
