"""`pulse create-admin` and `pulse set-password`: administrator accounts from the command line, such as the
first one, or for someone locked out. Both are in the audit log as made from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from pulse.cli.shared import plain_text, public_base
from pulse.runtime import db_session
from pulse.services.accounts import record_change


@click.command("create-admin")
@click.argument("email", callback=plain_text)
@click.option(
    "--name", prompt="Name", callback=plain_text, help="The administrator's name, as shown in the audit log."
)
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
    click.echo(f"Created administrator {user.email}. Sign in at {public_base()}/admin/login")


@click.command("set-password")
@click.argument("email", callback=plain_text)
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
