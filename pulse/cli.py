"""The `pulse` command: demo, serve, db upgrade, import/export of the structure, purge."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from pulse.runtime import close_db_session, current_k, db_session, runtime
from pulse.services.audit_log import record_change


def _create_app() -> Flask:
    from pulse import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def cli() -> None:
    """Pulse: anonymous end-of-shift staff morale for health and social care."""


def main() -> None:
    from pulse.config import ConfigError

    try:
        cli.main(prog_name="pulse")
    except ConfigError as exc:
        click.echo(f"Configuration error: {exc}", err=True)
        sys.exit(2)


def _serve(app: Flask, host: str, port: int, threads: int) -> None:
    from waitress import serve as waitress_serve

    # waitress writes no access log, so no client address or time is recorded for the rating path.
    waitress_serve(app, host=host, port=port, threads=threads, ident="Pulse")


@click.command()
@click.option("--host", default=None, help="Address to listen on (default PULSE_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default PULSE_PORT, 8050).")
@click.option("--threads", type=int, default=8, show_default=True)
@with_appcontext
def serve(host: str | None, port: int | None, threads: int) -> None:
    """Serve Pulse against the configured database (waitress; use gunicorn in production)."""
    from flask import current_app

    settings = runtime().settings
    host, port = host or settings.host, port or settings.port
    click.echo(f"Pulse is serving on http://{host}:{port}/ (database: {_safe_url()})")
    _serve(current_app._get_current_object(), host, port, threads)  # type: ignore[attr-defined]


@click.command()
@click.option("--weeks", type=click.IntRange(1, 260), default=52, show_default=True, help="Weeks of history.")
@click.option("--seed", type=int, default=2017, show_default=True, help="Random seed, for a repeatable demo.")
@click.option("--reset", is_flag=True, help="Empty the database first (all data in it is deleted).")
@click.option("--no-serve", is_flag=True, help="Seed only; do not start the server.")
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@with_appcontext
def demo(weeks: int, seed: int, reset: bool, no_serve: bool, host: str | None, port: int | None) -> None:
    """Create the database, seed a believable organisation with a year of ratings, and serve it."""
    from flask import current_app

    from pulse import migrate
    from pulse.services import demo as demo_service
    from pulse.services import kiosk as kiosk_service
    from pulse.services import structure

    rt = runtime()
    if rt.settings.env == "production":
        raise click.ClickException("pulse demo will not seed a production database (PULSE_ENV=production).")
    click.echo(f"Database: {_safe_url()}")
    if reset:
        migrate.downgrade(rt.engine, "base")
    migrate.upgrade(rt.engine)
    session = db_session(write=True)
    if demo_service.has_organisation(session):
        click.echo("The database already holds an organisation; keeping it (use --reset to start again).")
    else:
        organisation = demo_service.seed_organisation(session, seed=seed)
        # One demo ward has a shared tablet, so kiosk mode can be tried too.
        kiosk_service.enable_kiosk(session, structure.list_teams(session)[0])
        session.commit()
        # Simulate up to yesterday: today's shifts have not happened yet, so real ratings fill them.
        yesterday = rt.now().astimezone(rt.settings.tz).date() - dt.timedelta(days=1)
        plan = demo_service.plan_history(organisation, end=yesterday, weeks=weeks, seed=seed)
        with click.progressbar(plan, label="Simulating shifts", show_pos=True) as bar:
            for week_delta in bar:
                demo_service.write_history(session, week_delta)
                session.commit()
        demo_service.seed_actions(session, organisation, end=yesterday)
        session.commit()
        click.echo(demo_service.describe(session))
        from pulse.services.publication import publish_due

        grace = dt.timedelta(minutes=rt.settings.grace_minutes)
        published = publish_due(session, rt.now(), rt.settings.tz, grace, current_k(session))
        session.commit()
        click.echo(f"Published {len(published)} closed week(s) through the anonymity checks.")
    teams = structure.list_teams(session)
    sample = teams[0] if teams else None
    # The server must not start while this command still holds a transaction (on SQLite, the write lock).
    close_db_session()
    if no_serve:
        return
    settings = rt.settings
    host, port = host or settings.host, port or settings.port
    base = f"http://{host}:{port}"
    lines = [f"  {base}/dashboard/      the morale dashboard"]
    if sample is not None:
        lines.append(f"  {base}/r/{sample.join_code}   rate a shift as {sample.name} staff do")
        lines.append(f"  {base}/r/{sample.join_code}/poster   its ward poster")
        if sample.kiosk_token:
            lines.append(f"  {base}/k/{sample.kiosk_token}   {sample.name}'s shared ward tablet (kiosk mode)")
    lines.append(f"  {base}/api/docs        the API, with interactive docs")
    lines.append("  (`pulse join-codes` lists each team's rating link)")
    click.echo("\nPulse is running. Open:\n" + "\n".join(lines) + "\nPress Ctrl+C to stop.")
    _serve(current_app._get_current_object(), host, port, 8)  # type: ignore[attr-defined]


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
    click.echo(f"Database {_safe_url()} is at {revision}.")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' empties the database)."""
    from pulse import migrate

    migrate.downgrade(runtime().engine, revision)
    click.echo(f"Database {_safe_url()} is at {revision}.")


@click.command("import-structure")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_structure(csv_file: Path) -> None:
    """Create or update departments, teams, shift bands and reason tags from CSV_FILE.

    Columns: kind,name,department,headcount,active,start,end (kind is department, team, band or tag).
    Running it again with the same file changes nothing. A file with any bad row imports nothing.
    """
    from pulse.services.structure_import import StructureImportError, import_structure, read_structure_csv

    session = db_session(write=True)
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{csv_file} is not UTF-8 text") from exc
    try:
        report = import_structure(session, read_structure_csv(text))
    except StructureImportError as exc:
        session.rollback()
        for error in exc.errors:
            click.echo(f"{csv_file}: {error}", err=True)
        raise click.ClickException(
            f"{len(exc.errors)} error(s) in {csv_file}; nothing was imported."
        ) from exc
    session.commit()
    click.echo(report.summary())


@click.command("export-structure")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@with_appcontext
def export_structure(csv_file: Path | None) -> None:
    """Write the structure as CSV (to CSV_FILE, or standard output) in the import format."""
    from pulse.services.structure_import import export_structure as export

    text = export(db_session())
    if csv_file is None:
        click.echo(text, nl=False)
    else:
        csv_file.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {csv_file}")


@click.command()
@with_appcontext
def purge() -> None:
    """Destroy the keys (and their digests) of shifts and weeks that have closed. Safe to run any time."""
    from pulse.services.keys import purge_expired

    rt = runtime()
    session = db_session(write=True)
    count = purge_expired(session, rt.now(), rt.settings.tz, dt.timedelta(minutes=rt.settings.grace_minutes))
    session.commit()
    click.echo(f"Destroyed {count} expired key(s) and their digests.")


@click.command()
@with_appcontext
def publish() -> None:
    """Publish every week that has closed (plus the grace period) and is not yet published."""
    from pulse.services.publication import publish_due

    rt = runtime()
    settings = rt.settings
    session = db_session(write=True)
    grace = dt.timedelta(minutes=settings.grace_minutes)
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
    from pulse.services.publication_audit import audit_published

    weeks, result = audit_published(db_session())
    click.echo(
        f"Audited {weeks} published week(s): {result.cells} cells, {result.shown} shown, "
        f"{result.hidden_with_records} hidden with ratings, {result.atoms} derivable groups, "
        f"{result.exact_checks} cells also checked by Gaussian elimination."
    )
    if not result.ok:
        for problem in result.problems:
            click.echo(f"LEAK: {problem}", err=True)
        raise click.ClickException(f"{len(result.problems)} problem(s) found.")
    click.echo(
        "No hidden figure can be worked out from the published ones, and every derivable group is empty "
        "or at least k strong."
    )


@click.command("join-codes")
@click.option(
    "--rotate", "rotate_team", type=int, default=None, metavar="TEAM_ID", help="Replace this team's code."
)
@with_appcontext
def join_codes(rotate_team: int | None) -> None:
    """List each team's rating link code, or rotate one team's code (the old one stops working)."""
    from pulse.services import structure

    session = db_session(write=rotate_team is not None)
    if rotate_team is not None:
        team = structure.get_team(session, rotate_team)
        if team is None:
            raise click.ClickException(f"There is no team with id {rotate_team}.")
        code = structure.rotate_join_code(session, team)
        record_change(session, None, "team.rotate_join_code", team.name)
        session.commit()
        click.echo(f"{team.name}: new join code {code}; the old code no longer works.")
        return
    for team in structure.list_teams(session):
        click.echo(f"{team.id}\t{team.join_code}\t{team.department.name} / {team.name}")


@click.command("create-admin")
@click.argument("email")
@click.option("--name", prompt="Name", help="The administrator's name, as shown in the audit log.")
@click.password_option(
    "--password", help="At least 12 characters. Prompted for (twice, hidden) when not given."
)
@with_appcontext
def create_admin(email: str, name: str, password: str) -> None:
    """Create an administrator account, such as the first one, from the command line."""
    from pulse.models import Role
    from pulse.services import accounts

    session = db_session(write=True)
    try:
        user = accounts.create_user(session, email=email, name=name, role=Role.ADMIN, password=password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    record_change(session, None, "user.create", user.email, role="admin")
    session.commit()
    click.echo(f"Created administrator {user.email}. Sign in at /admin/login.")


@click.command("set-password")
@click.argument("email")
@click.password_option("--password", help="At least 12 characters. Prompted for when not given.")
@with_appcontext
def set_password(email: str, password: str) -> None:
    """Reset someone's password (they forgot it, or are locked out); their sessions end everywhere."""
    from pulse.services import accounts

    session = db_session(write=True)
    user = accounts.find_user_by_email(session, email)
    if user is None:
        raise click.ClickException(f"There is no account for {email}.")
    try:
        accounts.set_password(session, user, password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    record_change(session, None, "user.set_password", user.email)
    session.commit()
    click.echo(f"New password set for {user.email}; their other sessions have ended.")


@click.group()
def kiosk() -> None:
    """Shared ward tablets: switch kiosk mode on or off for a team."""


@kiosk.command("enable")
@click.argument("team_id", type=int)
@with_appcontext
def kiosk_enable(team_id: int) -> None:
    """Switch kiosk mode on for a team (or replace its tablet's address) and print the address."""
    from pulse.services import kiosk as kiosk_service
    from pulse.services import structure

    session = db_session(write=True)
    team = structure.get_team(session, team_id)
    if team is None:
        raise click.ClickException(f"There is no team with id {team_id}.")
    try:
        token = kiosk_service.enable_kiosk(session, team)
    except kiosk_service.KioskNotAllowed as exc:
        raise click.ClickException(str(exc)) from exc
    record_change(session, None, "team.kiosk_enable", team.name)
    session.commit()
    base = runtime().settings.public_url.rstrip("/") or "https://<your Pulse address>"
    click.echo(f"Kiosk mode is on for {team.name}. Open this address on the ward tablet:")
    click.echo(f"  {base}/k/{token}")
    click.echo(
        f"Any earlier tablet address for this team no longer works. It takes at most {team.headcount} "
        f"ratings per shift (the team's headcount) and waits "
        f"{runtime().settings.kiosk_cooldown_seconds} seconds between taps."
    )
    click.echo(f"Please note: {kiosk_service.WEAKER_GUARANTEE}")


@kiosk.command("disable")
@click.argument("team_id", type=int)
@with_appcontext
def kiosk_disable(team_id: int) -> None:
    """Switch kiosk mode off for a team: its tablet's address stops working."""
    from pulse.services import kiosk as kiosk_service
    from pulse.services import structure

    session = db_session(write=True)
    team = structure.get_team(session, team_id)
    if team is None:
        raise click.ClickException(f"There is no team with id {team_id}.")
    kiosk_service.disable_kiosk(session, team)
    record_change(session, None, "team.kiosk_disable", team.name)
    session.commit()
    click.echo(f"Kiosk mode is off for {team.name}; its tablet address no longer works.")


@click.group("support-links")
def support_links() -> None:
    """The support links staff see after rating a tough shift."""


@support_links.command("list")
@with_appcontext
def support_links_list() -> None:
    """List the support links, in the order staff see them."""
    from pulse.services import structure

    for link in structure.list_support_links(db_session()):
        click.echo(f"{link.id}\t{link.label}\t{link.url}\t{link.description}")


@support_links.command("add")
@click.argument("label")
@click.argument("url")
@click.option("--description", default="", help="One plain-English line under the link.")
@with_appcontext
def support_links_add(label: str, url: str, description: str) -> None:
    """Add a support link, e.g. pulse support-links add "Staff wellbeing service" https://..."""
    from pulse.services import structure

    session = db_session(write=True)
    try:
        link = structure.add_support_link(session, label, url, description)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    record_change(session, None, "support_link.create", link.label, url=link.url)
    session.commit()
    click.echo(f"Added support link {link.id}: {link.label}")


@support_links.command("retire")
@click.argument("link_id", type=int)
@with_appcontext
def support_links_retire(link_id: int) -> None:
    """Stop showing a support link (it is kept, retired)."""
    from pulse.services import structure

    session = db_session(write=True)
    link = structure.retire_support_link(session, link_id)
    if link is None:
        raise click.ClickException(f"There is no support link with id {link_id}.")
    record_change(session, None, "support_link.retire", link.label)
    session.commit()
    click.echo(f"Retired support link {link.id}: {link.label}")


@click.group(invoke_without_command=True)
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.pass_context
def alerts(ctx: click.Context, dry_run: bool) -> None:
    """Tell subscribed managers of new special causes of concern in published figures (after `pulse publish`).

    With no subcommand, sends each alert that is due, once; exits 1 if any could not be delivered (they are
    tried again next run).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(alerts_run, dry_run=dry_run)


@alerts.command("run")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@with_appcontext
def alerts_run(dry_run: bool) -> None:
    """Send each alert that is due, once (what `pulse alerts` does)."""
    from pulse.services.alerts import send_alerts
    from pulse.services.notifications import SmtpSettings

    settings = runtime().settings
    smtp = None
    if settings.smtp_host:
        smtp = SmtpSettings(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_from,
        )
    session = db_session(write=not dry_run)
    report = send_alerts(session, smtp=smtp, public_url=settings.public_url, dry_run=dry_run)
    for label, outcomes in (("Would send", report.due), ("Sent", report.sent), ("Skipped", report.skipped)):
        for outcome in outcomes:
            click.echo(f"{label}: {outcome.describe()}")
    for outcome in report.failed:
        click.echo(f"FAILED: {outcome.describe()}", err=True)
    verb = "would send" if dry_run else "sent"
    click.echo(
        f"Alerts: {len(report.due if dry_run else report.sent)} {verb}, {len(report.skipped)} skipped, "
        f"{len(report.failed)} failed."
    )
    if report.failed:
        raise click.ClickException(f"{len(report.failed)} alert(s) could not be delivered.")


@alerts.command("subscribe")
@click.argument("email")
@click.argument("department_id", type=int)
@click.option("--webhook", "webhook_url", metavar="URL", help="Also post to this chat webhook (https://).")
@click.option("--no-email", is_flag=True, help="Do not email (the webhook only).")
@with_appcontext
def alerts_subscribe(email: str, department_id: int, webhook_url: str | None, no_email: bool) -> None:
    """Send a manager (or administrator) the alerts of a department, by email and/or webhook."""
    from pulse.services import accounts, structure
    from pulse.services.alert_subscriptions import subscribe
    from pulse.services.errors import InvalidInput

    session = db_session(write=True)
    user = accounts.find_user_by_email(session, email)
    department = structure.get_department(session, department_id)
    if user is None:
        raise click.ClickException(f"There is no account for {email}.")
    if department is None:
        raise click.ClickException(f"There is no department with id {department_id}.")
    try:
        subscribe(session, user, department, by_email=not no_email, webhook_url=webhook_url)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc
    # A webhook address is a secret (anyone holding it can post): the audit log only says there is one.
    target = f"{user.email}: {department.name}"
    record_change(
        session, None, "alert_subscription.create", target, email=not no_email, webhook=bool(webhook_url)
    )
    session.commit()
    channels = " and ".join(c for c, on in (("email", not no_email), ("webhook", bool(webhook_url))) if on)
    click.echo(f"{user.email} will hear of special causes of concern in {department.name} by {channels}.")


@alerts.command("unsubscribe")
@click.argument("email")
@click.argument("department_id", type=int)
@with_appcontext
def alerts_unsubscribe(email: str, department_id: int) -> None:
    """Stop someone's alerts for a department."""
    from pulse.services import accounts, structure
    from pulse.services.alert_subscriptions import unsubscribe

    session = db_session(write=True)
    user = accounts.find_user_by_email(session, email)
    department = structure.get_department(session, department_id)
    if user is None or department is None or not unsubscribe(session, user, department):
        raise click.ClickException(f"{email} has no alerts for department {department_id}.")
    record_change(session, None, "alert_subscription.delete", f"{user.email}: {department.name}")
    session.commit()
    click.echo(f"{user.email} will no longer hear of {department.name}.")


@alerts.command("list")
@with_appcontext
def alerts_list() -> None:
    """List the subscriptions: department, account, and how alerts reach them."""
    from pulse.services.alert_subscriptions import list_subscriptions

    for subscription, user, department in list_subscriptions(db_session()):
        channels = ["email"] if subscription.by_email else []
        channels += ["webhook"] if subscription.webhook_url else []
        click.echo(f"{department.id}\t{department.name}\t{user.email}\t{' + '.join(channels)}")


def _safe_url() -> str:
    return runtime().engine.url.render_as_string(hide_password=True)


cli.add_command(serve)
cli.add_command(demo)
cli.add_command(db)
cli.add_command(import_structure)
cli.add_command(export_structure)
cli.add_command(purge)
cli.add_command(join_codes)
cli.add_command(kiosk)
cli.add_command(create_admin)
cli.add_command(set_password)
cli.add_command(support_links)
cli.add_command(publish)
cli.add_command(audit)
cli.add_command(alerts)
