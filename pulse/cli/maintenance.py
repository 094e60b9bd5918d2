"""`pulse maintain`, `pulse mix` and `pulse purge`: the maintainer, which mixes the sealed inbox into the
tallies, destroys expired keys and publishes closed weeks, run beside the web servers or once by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask import Flask
from flask.cli import with_appcontext

from pulse.cli.shared import safe_url
from pulse.runtime import Runtime, close_db_session, db_session, runtime

if TYPE_CHECKING:
    from pulse.services.maintenance import Maintainer, MaintainerLock, MaintenanceSettings
    from pulse.services.rating import MixReport

# How often the maintainer looks for work: an inbox epoch due for mixing, keys to destroy, weeks to publish.
MAINTAIN_EVERY_SECONDS = 30.0


def maintainer_for(app: Flask) -> tuple[Maintainer, MaintenanceSettings, MaintainerLock]:
    """The maintainer for `app`'s database, holding the lock that makes it the only one."""
    from pulse.services.maintenance import Maintainer, MaintainerLock, MaintenanceSettings
    from pulse.services.rating import KeyFiles

    rt: Runtime = app.extensions["pulse"]
    settings = rt.settings
    keys = KeyFiles(settings.inbox_keys)
    lock = MaintainerLock(rt.engine, keys)
    lock.acquire()
    maintainer = Maintainer(rt.engine, rt.write_session_factory, keys)
    return maintainer, MaintenanceSettings.of(settings), lock


def start_maintainer(app: Flask) -> None:
    """Run routine maintenance in a thread beside the server (pulse serve and pulse demo): one process, so
    the mixer's keys stay on this machine. Under gunicorn, `pulse maintain` runs it instead."""
    import logging
    import threading

    from pulse.services.maintenance import MaintainerBusy

    try:
        maintainer, options, _lock = maintainer_for(app)
    except MaintainerBusy as busy:
        click.echo(f"Not mixing ratings here: {busy}.")
        return
    clock = app.extensions["pulse"].now
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                maintainer.tick(clock(), options)
            except Exception:  # a database outage must not end maintenance for good
                logging.getLogger("pulse.maintain").exception("maintenance failed; trying again shortly")
            if stop.wait(MAINTAIN_EVERY_SECONDS):
                return

    threading.Thread(target=loop, name="pulse-maintain", daemon=True).start()


@click.command()
@click.option("--once", is_flag=True, help="One round of maintenance, then exit (for cron or a test).")
@with_appcontext
def maintain(once: bool) -> None:
    """Routine maintenance: mix the sealed inbox into the tallies, destroy expired keys, publish closed weeks,
    and erase the database files' history every PULSE_MAINTENANCE_HOURS. Run exactly one beside the web
    servers (docker-compose's `maintain` service); `pulse serve` and `pulse demo` run it themselves."""
    import time

    from flask import current_app

    from pulse.services.maintenance import MaintainerBusy

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    close_db_session()
    try:
        maintainer, options, lock = maintainer_for(app)
    except MaintainerBusy as busy:
        raise click.ClickException(str(busy)) from busy
    clock = runtime().now
    click.echo(f"Maintaining {safe_url()} (inbox keys in {runtime().settings.inbox_keys}).")
    first = True
    try:
        while True:
            report = maintainer.tick(clock(), options)
            # The first round always says what it did: it is the one that also rewrites the tables.
            if report.org_parts or report.ratings or report.weeks or once or first:
                click.echo(describe_mix(report))
            if once:
                return
            first = False
            time.sleep(MAINTAIN_EVERY_SECONDS)
    finally:
        lock.release()


@click.command("mix")
@click.option(
    "--drop-unreadable",
    is_flag=True,
    help="Drop waiting ratings whose key is gone (after a restore from backup: they can never be read).",
)
@with_appcontext
def mix_now(drop_unreadable: bool) -> None:
    """Mix every rating waiting in the sealed inbox into the tallies now, however few (for a trial, a test or
    before a downgrade). Normally the maintainer mixes once k ratings wait, or every PULSE_MIX_MINUTES."""
    from flask import current_app

    from pulse.services.maintenance import MaintainerBusy

    close_db_session()
    try:
        maintainer, options, lock = maintainer_for(current_app._get_current_object())  # type: ignore[attr-defined]
    except MaintainerBusy as busy:
        raise click.ClickException(str(busy)) from busy
    try:
        report = maintainer.tick(runtime().now(), options, force_mix=True, drop_unreadable=drop_unreadable)
    finally:
        lock.release()
    click.echo(describe_mix(report))
    if report.dropped:
        click.echo(f"Dropped {report.dropped} sealed rating(s) whose key was gone.")


@click.command()
@with_appcontext
def purge() -> None:
    """Destroy the keys (and their digests) of shifts and weeks that have closed, and the token seeds (and
    issuance records) of closed weeks. Safe to run any time."""
    from pulse.services.rating.keys import purge_expired
    from pulse.services.tokens.keys import purge_closed_seeds

    rt = runtime()
    session = db_session(write=True)
    grace = rt.settings.grace
    count = purge_expired(session, rt.now(), rt.settings.tz, grace)
    seeds = purge_closed_seeds(session, rt.now(), rt.settings.tz, grace)
    session.commit()
    click.echo(f"Destroyed {count} expired key(s) and their digests.")
    if seeds:
        click.echo(f"Destroyed {seeds} token seed(s) of closed weeks and their issuance records.")


def describe_mix(report: MixReport) -> str:
    return (
        f"Released {report.org_parts} rating(s) into the organisation's shifts and {report.ratings} "
        f"rating(s) and {report.reasons} set(s) of reasons into their teams' weeks; {report.weeks} closed "
        f"week(s) complete; {report.waiting} waiting in the sealed inbox."
    )
