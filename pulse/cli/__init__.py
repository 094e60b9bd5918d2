"""The `pulse` command: one module per group of commands, each calling the services; this module gathers
them on the `pulse` group.

    server.py       serve, demo
    maintenance.py  maintain, mix, purge
    publication.py  publish, audit
    database.py     db upgrade, db downgrade
    structure.py    import-structure, export-structure, join-codes, kiosk, support-links
    accounts.py     create-admin, set-password
    alerts.py       alerts (run, subscribe, unsubscribe, list)
    roster.py       roster, enrolment-codes, rating-mode
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import ScriptInfo

from pulse.cli.accounts import create_admin, set_password
from pulse.cli.alerts import alerts
from pulse.cli.database import db
from pulse.cli.maintenance import maintain, mix_now, purge
from pulse.cli.publication import audit, publish
from pulse.cli.roster import enrolment_codes, rating_mode, roster
from pulse.cli.server import demo, serve
from pulse.cli.structure import export_structure, import_structure, join_codes, kiosk, support_links


def _create_app() -> Flask:
    from pulse import create_app

    return create_app()


class PulseGroup(click.Group):
    """Pulse's own commands and nothing else: not Flask's --app, --env-file and --debug, nor the commands that
    extensions register with Flask (flask-limiter's `limiter`, flask-smorest's `openapi`), which flask.cli's
    FlaskGroup would list. Commands still run in the app's context (with_appcontext finds it here)."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: object
    ) -> click.Context:
        if parent is None and "obj" not in extra:
            extra["obj"] = ScriptInfo(create_app=_create_app, set_debug_flag=False)
        return super().make_context(info_name, args, parent=parent, **extra)


@click.group(cls=PulseGroup)
def cli() -> None:
    """Pulse: anonymous end-of-shift staff morale for health and social care."""


def main() -> None:
    from pulse.config import ConfigError

    try:
        cli.main(prog_name="pulse")
    except ConfigError as exc:
        click.echo(f"Configuration error: {exc}", err=True)
        sys.exit(2)


for _command in (
    serve,
    demo,
    db,
    import_structure,
    export_structure,
    purge,
    maintain,
    mix_now,
    join_codes,
    kiosk,
    create_admin,
    set_password,
    support_links,
    publish,
    audit,
    alerts,
    roster,
    enrolment_codes,
    rating_mode,
):
    cli.add_command(_command)
