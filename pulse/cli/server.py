"""`pulse serve` and `pulse demo`: Pulse on waitress to try it out, the demo trust seeded first for `demo`.
Both run the maintainer in a thread beside the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask import Flask
from flask.cli import with_appcontext

from pulse.cli.maintenance import start_maintainer
from pulse.cli.shared import safe_url
from pulse.runtime import close_db_session, current_k, db_session, local_today, runtime

if TYPE_CHECKING:
    from pulse.services.accounts.roster import IssuedCode

TRIAL_SERVER_NOTE = (
    "This server is for trying Pulse, not for production: a crowd of slow clients can hold it up, and it\n"
    "has no TLS. In production run nginx in front of gunicorn (docker-compose.yml; see docs/operations.md)."
)


def hosts_note() -> str:
    """Which host names are answered, when only the loopback ones are (no public URL, no trusted hosts)."""
    hosts = runtime().settings.allowed_hosts
    if hosts is None or runtime().settings.trusted_host_list:
        return ""
    return (
        f"\nIt answers only for {' and '.join(hosts)}: set PULSE_TRUSTED_HOSTS (or PULSE_PUBLIC_URL) to "
        "reach it by another name."
    )


def run_server(app: Flask, host: str, port: int, threads: int, *, maintain: bool = True) -> None:
    """Serve `app` with waitress until stopped, with the maintainer in a thread beside it."""
    from waitress import serve as waitress_serve

    if maintain:
        start_maintainer(app)
    # waitress writes no access log, so no client address or time is recorded for the rating path.
    waitress_serve(app, host=host, port=port, threads=threads, ident="Pulse")


@click.command()
@click.option("--host", default=None, help="Address to listen on (default PULSE_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default PULSE_PORT, 8050).")
@click.option("--threads", type=int, default=8, show_default=True)
@with_appcontext
def serve(host: str | None, port: int | None, threads: int) -> None:
    """Serve Pulse to try it out (waitress). Not for production: use docker-compose.yml (nginx in front of
    gunicorn), as docs/operations.md says."""
    from flask import current_app

    settings = runtime().settings
    host, port = host or settings.host, port or settings.port
    click.echo(f"Pulse is serving on http://{host}:{port}/ (database: {safe_url()})")
    click.echo(TRIAL_SERVER_NOTE + hosts_note())
    run_server(current_app._get_current_object(), host, port, threads)  # type: ignore[attr-defined]


@click.command()
@click.option("--weeks", type=click.IntRange(1, 260), default=52, show_default=True, help="Weeks of history.")
@click.option("--seed", type=int, default=2017, show_default=True, help="Random seed, for a repeatable demo.")
@click.option("--reset", is_flag=True, help="Empty the database first (all data in it is deleted).")
@click.option("--no-serve", is_flag=True, help="Seed only; do not start the server.")
@click.option(
    "--verified", is_flag=True, help="Switch to verified rating (the demo seeds every team's roster)."
)
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@with_appcontext
def demo(
    weeks: int, seed: int, reset: bool, no_serve: bool, verified: bool, host: str | None, port: int | None
) -> None:
    """Create the database, seed a believable organisation with a year of ratings, and serve it."""
    from flask import current_app

    from pulse import migrate

    rt = runtime()
    if rt.settings.env == "production":
        raise click.ClickException("pulse demo will not seed a production database (PULSE_ENV=production).")
    click.echo(f"Database: {safe_url()}")
    if reset:
        migrate.downgrade(rt.engine, "base")
    migrate.upgrade(rt.engine)
    if not _seed_demo(weeks, seed):
        click.echo("The database already holds an organisation; keeping it (use --reset to start again).")
    trial = _switch_to_verified() if verified else None
    sample = _sample_team()
    # The server must not start while this command still holds a transaction (on SQLite, the write lock).
    close_db_session()
    settings = rt.settings
    host, port = host or settings.host, port or settings.port
    base = f"http://{host}:{port}"
    if trial is not None and sample is not None:
        click.echo(
            f"To try it, enrol as {trial.identifier} with the code {trial.code} (it works once): "
            f'open {base}/enrol/{trial.code}, press "Enrol this phone", then rate at {base}/r/{sample[1]}'
        )
    if no_serve:
        return
    lines = [f"  {base}/dashboard/      the morale dashboard"]
    if sample is not None:
        name, join_code, kiosk_token = sample
        lines.append(f"  {base}/r/{join_code}   rate a shift as {name} staff do")
        lines.append(f"  {base}/r/{join_code}/poster   its ward poster")
        if kiosk_token:
            lines.append(f"  {base}/k/{kiosk_token}   {name}'s shared ward tablet (kiosk mode)")
    lines.append(f"  {base}/api/docs        the API, with interactive docs")
    lines.append("  (`pulse join-codes` lists each team's rating link)")
    click.echo("\nPulse is running. Open:\n" + "\n".join(lines) + "\nPress Ctrl+C to stop.")
    click.echo(TRIAL_SERVER_NOTE + hosts_note())
    run_server(current_app._get_current_object(), host, port, 8)  # type: ignore[attr-defined]


def _seed_demo(weeks: int, seed: int) -> bool:
    """Seed the demo trust and its history, committing week by week, and publish its closed weeks; False if
    the database already holds an organisation."""

    from pulse.services import demo as demo_service
    from pulse.services.publication import publish_due

    rt = runtime()
    session = db_session(write=True)
    if demo_service.has_organisation(session):
        return False
    trust = demo_service.seed_trust(session, seed=seed, today=local_today())
    session.commit()
    click.echo(f"Roster: {trust.staff:,} synthetic staff (staff0001@demo.invalid ...) on their teams.")
    plan = demo_service.plan_trust_history(trust, weeks=weeks, seed=seed)
    with click.progressbar(plan, label="Simulating shifts", show_pos=True) as bar:
        for week_delta in bar:
            demo_service.write_history(session, week_delta)
            session.commit()
    click.echo(demo_service.describe(session))
    grace = rt.settings.grace
    published = publish_due(session, rt.now(), rt.settings.tz, grace, current_k(session))
    session.commit()
    click.echo(f"Published {len(published)} closed week(s) through the anonymity checks.")
    return True


def _switch_to_verified() -> IssuedCode | None:
    """Switch the demo to verified rating; a personal enrolment code to try it with, for the first team."""
    import datetime as dt

    from pulse.models import RatingMode
    from pulse.services import demo as demo_service
    from pulse.services import structure
    from pulse.services.accounts import roster

    rt = runtime()
    session = db_session(write=True)
    try:
        roster.switch_rating_mode(session, None, RatingMode.VERIFIED, today=local_today())
    except roster.RosterMissing as exc:
        raise click.ClickException(str(exc)) from exc
    teams = structure.list_teams(session)
    valid_for = dt.timedelta(days=rt.settings.enrolment_code_days)
    now = rt.now().astimezone(rt.settings.tz)
    trial = demo_service.trial_enrolment_code(
        session, teams[0] if teams else None, now=now, valid_for=valid_for
    )
    session.commit()
    click.echo("Rating is verified: staff enrol at /enrol (`pulse enrolment-codes issue --team ID`).")
    return trial


def _sample_team() -> tuple[str, str, str | None] | None:
    """The first team's name, join code and kiosk token, for the links printed as the demo starts."""
    from pulse.services import structure

    teams = structure.list_teams(db_session())
    return (teams[0].name, teams[0].join_code, teams[0].kiosk_token) if teams else None
