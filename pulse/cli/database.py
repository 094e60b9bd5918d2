"""`pulse db upgrade` and `pulse db downgrade`: the database's migrations."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from pulse.cli.shared import safe_url
from pulse.runtime import runtime


@click.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from pulse import migrate

    migrate.upgrade(runtime().engine, revision)
    click.echo(f"Database {safe_url()} is at {revision}.")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' empties the database)."""
    from pulse import migrate

    migrate.downgrade(runtime().engine, revision)
    click.echo(f"Database {safe_url()} is at {revision}.")
