"""`pulse roster`, `pulse enrolment-codes` and `pulse rating-mode`: the roster and verified rating from the
command line. Every change is in the audit log as made from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import with_appcontext

from pulse.cli.shared import (
    local_now,
    public_base_or_placeholder,
    read_csv_file,
    refuse_import,
    team_or_fail,
    write_csv_output,
)
from pulse.csvfile import write_csv
from pulse.runtime import db_session, local_today, runtime


@click.group()
def roster() -> None:
    """The staff roster: who is on which team, for verified rating."""


@roster.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Make the roster exactly the file: anyone not in it is taken off every team.",
)
@with_appcontext
def roster_import(csv_file: Path, replace: bool) -> None:
    """Put the people in CSV_FILE on their teams (columns identifier,team,department; docs/roster-csv.md).

    Running it again with the same file changes nothing. A file with any bad row imports nothing.
    """
    from pulse.services.accounts import roster as service

    text = read_csv_file(csv_file)
    session = db_session(write=True)
    try:
        rows = service.read_roster_csv(text)
        report = service.import_roster(
            session, None, rows, today=local_now().date(), replace=replace, source=csv_file.name
        )
    except service.RosterImportError as exc:
        refuse_import(csv_file, exc)
    session.commit()
    click.echo(f"{report.summary()}.")
    if report.inactive:
        click.echo("Deactivated, left so: " + ", ".join(report.inactive))


@roster.command("export")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@with_appcontext
def roster_export(csv_file: Path | None) -> None:
    """Write the roster as CSV (to CSV_FILE, or standard output) in the import format."""
    from pulse.services.accounts import roster as service

    write_csv_output(service.export_roster(db_session()), csv_file)


@click.group("enrolment-codes")
def enrolment_codes() -> None:
    """Personal enrolment codes, for staff who cannot sign in at the identity provider."""


@enrolment_codes.command("issue")
@click.option("--team", "team_id", type=int, help="A code for each active person on this team's roster.")
@click.option("--person", "identifier", help="A code for this person (email or staff number).")
@click.option(
    "--all", "include_enrolled", is_flag=True, help="With --team: people with an enrolled phone too."
)
@with_appcontext
def enrolment_codes_issue(team_id: int | None, identifier: str | None, include_enrolled: bool) -> None:
    """Issue codes and print them as CSV (identifier, code, enrolment link, expiry): the only time they are
    shown. A new code cancels the person's earlier unused one."""
    from pulse.services.accounts import roster as service
    from pulse.services.errors import InvalidInput

    if (team_id is None) == (identifier is None):
        raise click.UsageError("Give either --team TEAM_ID or --person IDENTIFIER.")
    settings = runtime().settings
    valid_for = dt.timedelta(days=settings.enrolment_code_days)
    session = db_session(write=True)
    if team_id is not None:
        team = team_or_fail(team_id)
        issued = service.issue_team_codes(
            session, None, team, now=local_now(), valid_for=valid_for, include_enrolled=include_enrolled
        )
        if not issued:
            raise click.ClickException(
                f"Nobody to issue codes for: everyone active on {team.name}'s roster has an enrolled phone "
                "(--all issues them new codes anyway), or the roster is empty."
            )
    else:
        person = service.find_person(session, identifier or "")
        if person is None:
            raise click.ClickException(f"{identifier} is not on the roster.")
        try:
            issued = [service.issue_code(session, None, person, now=local_now(), valid_for=valid_for)]
        except InvalidInput as exc:
            raise click.ClickException(str(exc)) from exc
    session.commit()
    base = public_base_or_placeholder()
    rows = (
        {
            "identifier": code.identifier,
            "code": code.code,
            "enrolment_link": f"{base}/enrol/{code.code}",
            "expires": code.expires_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"),
        }
        for code in issued
    )
    click.echo(write_csv(rows, ("identifier", "code", "enrolment_link", "expires")), nl=False)
    click.echo(
        f"Issued {len(issued)} code(s). They are shown only now: Pulse keeps no copy. "
        f"Each works once, for {settings.enrolment_code_days} days.",
        err=True,
    )


@click.command("rating-mode")
@click.argument("mode", type=click.Choice(["open", "verified"]), required=False)
@with_appcontext
def rating_mode(mode: str | None) -> None:
    """Show the rating mode, or switch it to open (the join code alone) or verified (anonymous tokens for
    people on the roster; every active team needs a roster first)."""
    from pulse.models import RatingMode
    from pulse.services.accounts import roster as service
    from pulse.services.organisation import rating_mode as current_mode

    session = db_session(write=mode is not None)
    if mode is None:
        click.echo(f"Rating is {current_mode(session).value}.")
    else:
        try:
            changed = service.switch_rating_mode(session, None, RatingMode(mode), today=local_today())
        except service.RosterMissing as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(f"Rating is now {mode}." if changed else f"Rating was already {mode}.")
    click.echo(f"\n{service.OPEN_PROMISE}\n\n{service.VERIFIED_PROMISE}")
