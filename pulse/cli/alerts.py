"""`pulse alerts`: telling subscribed managers of new special causes of concern in published figures, and
who is subscribed. Subscriptions are in the audit log as made from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from pulse.cli.shared import plain_text
from pulse.runtime import db_session, runtime
from pulse.services.accounts import record_change


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
    from pulse.services.followup import SmtpSettings, send_alerts

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
@click.argument("email", callback=plain_text)
@click.argument("department_id", type=int)
@click.option("--webhook", "webhook_url", metavar="URL", help="Also post to this chat webhook (https://).")
@click.option("--no-email", is_flag=True, help="Do not email (the webhook only).")
@with_appcontext
def alerts_subscribe(email: str, department_id: int, webhook_url: str | None, no_email: bool) -> None:
    """Send a manager (or administrator) the alerts of a department, by email and/or webhook."""
    from pulse.services import accounts, structure
    from pulse.services.errors import InvalidInput
    from pulse.services.followup import subscribe

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
@click.argument("email", callback=plain_text)
@click.argument("department_id", type=int)
@with_appcontext
def alerts_unsubscribe(email: str, department_id: int) -> None:
    """Stop someone's alerts for a department."""
    from pulse.services import accounts, structure
    from pulse.services.followup import unsubscribe

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
    from pulse.services.followup import list_subscriptions

    for subscription, user, department in list_subscriptions(db_session()):
        channels = ["email"] if subscription.by_email else []
        channels += ["webhook"] if subscription.webhook_url else []
        click.echo(f"{department.id}\t{department.name}\t{user.email}\t{' + '.join(channels)}")
