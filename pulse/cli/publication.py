"""`pulse publish` and `pulse audit`: publishing closed weeks through the anonymity checks, and checking
every published week by exact linear algebra."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from pulse.runtime import current_k, db_session, runtime


@click.command()
@with_appcontext
def publish() -> None:
    """Publish every week that has closed (plus the grace period) and is not yet published."""
    from pulse.services.publication import publish_due

    rt = runtime()
    settings = rt.settings
    session = db_session(write=True)
    grace = settings.grace
    weeks: list[dt.date] = []
    k = current_k(session)
    while batch := publish_due(session, rt.now(), settings.tz, grace, k, limit=1):
        session.commit()  # each week stands on its own: an interruption loses nothing already published
        weeks += batch
    if weeks:
        click.echo(f"Published {len(weeks)} week(s): {weeks[0]} to {weeks[-1]} (k={k}).")
    else:
        click.echo("Nothing to publish: every closed week is already published.")


@click.command()
@with_appcontext
def audit() -> None:
    """Check every published week by exact linear algebra; exit 1 if any hidden figure can be worked out."""
    from pulse.services.publication import audit_published

    weeks, result = audit_published(db_session())
    click.echo(
        f"Audited {weeks} published week(s): {result.cells} cells, {result.shown} shown, "
        f"{result.hidden_with_records} hidden with ratings, {result.atoms} derivable groups, "
        f"{result.exact_checks} cells also checked by Gaussian elimination."
    )
    for flag in result.flags:
        click.echo(f"FLAG: {flag}")
    if not result.ok:
        for problem in result.problems:
            click.echo(f"LEAK: {problem}", err=True)
        raise click.ClickException(f"{len(result.problems)} problem(s) found.")
    click.echo(
        "No hidden figure can be worked out from the published ones, and every derivable group is empty "
        "or at least k strong."
    )
