"""`pulse import-structure`, `export-structure`, `join-codes`, `kiosk` and `support-links`: the organisation's
departments, teams and what staff see, from the command line. Every change is in the audit log as made from
the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from pulse.cli.shared import (
    plain_text,
    public_base,
    public_base_or_placeholder,
    read_csv_file,
    refuse_import,
    team_or_fail,
    write_csv_output,
)
from pulse.runtime import db_session, local_today, runtime
from pulse.services.accounts import record_change


@click.command("import-structure")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_structure(csv_file: Path) -> None:
    """Create or update departments, teams, shift bands and reason tags from CSV_FILE.

    Columns: kind,name,department,headcount,active,start,end (kind is department, team, band or tag).
    Running it again with the same file changes nothing. A file with any bad row imports nothing.
    """
    from pulse.services.structure import StructureImportError, import_structure, read_structure_csv

    session = db_session(write=True)
    text = read_csv_file(csv_file)
    try:
        report = import_structure(session, read_structure_csv(text), today=local_today())
    except StructureImportError as exc:
        refuse_import(csv_file, exc)
    session.commit()
    click.echo(report.summary())


@click.command("export-structure")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@with_appcontext
def export_structure(csv_file: Path | None) -> None:
    """Write the structure as CSV (to CSV_FILE, or standard output) in the import format."""
    from pulse.services.structure import export_structure as export

    write_csv_output(export(db_session()), csv_file)


@click.command("join-codes")
@click.option(
    "--rotate", "rotate_team", type=int, default=None, metavar="TEAM_ID", help="Replace this team's code."
)
@with_appcontext
def join_codes(rotate_team: int | None) -> None:
    """List each team's join code and rating link, or replace one team's code (the old one stops working)."""
    from pulse.services import structure

    session = db_session(write=rotate_team is not None)
    if rotate_team is not None:
        team = team_or_fail(rotate_team)
        code = structure.rotate_join_code(session, team)
        record_change(session, None, "team.rotate_join_code", team.name)
        session.commit()
        click.echo(f"{team.name}: new join code {code}; the old code no longer works.")
        click.echo(f"Its rating link: {public_base()}/r/{code} (print the new poster: the link + /poster)")
        return
    base = public_base()
    teams = structure.list_teams(session)
    if not teams:
        click.echo("No teams yet: add them in the admin area, or with `pulse import-structure`.")
        return
    click.echo("Team id\tJoin code\tDepartment / team\tRating link (the ward poster: the link + /poster)")
    for team in teams:
        click.echo(
            f"{team.id}\t{team.join_code}\t{team.department.name} / {team.name}\t{base}/r/{team.join_code}"
        )


@click.group()
def kiosk() -> None:
    """Shared ward tablets: switch kiosk mode on or off for a team."""


@kiosk.command("enable")
@click.argument("team_id", type=int)
@with_appcontext
def kiosk_enable(team_id: int) -> None:
    """Switch kiosk mode on for a team (or replace its tablet's address) and print the address."""
    from pulse.services.accounts.roster import team_headcount
    from pulse.services.rating import kiosk as kiosk_service

    session = db_session(write=True)
    team = team_or_fail(team_id)
    try:
        token = kiosk_service.enable_kiosk(session, team)
    except kiosk_service.KioskNotAllowed as exc:
        raise click.ClickException(str(exc)) from exc
    record_change(session, None, "team.kiosk_enable", team.name)
    session.commit()
    headcount = team_headcount(session, team)
    click.echo(f"Kiosk mode is on for {team.name}. Open this address on the ward tablet:")
    click.echo(f"  {public_base_or_placeholder()}/k/{token}")
    click.echo(
        f"Any earlier tablet address for this team no longer works. It takes at most {headcount} "
        f"ratings per shift (the team's headcount) and waits "
        f"{runtime().settings.kiosk_cooldown_seconds} seconds between taps."
    )
    click.echo(f"Please note: {kiosk_service.WEAKER_GUARANTEE}")


@kiosk.command("disable")
@click.argument("team_id", type=int)
@with_appcontext
def kiosk_disable(team_id: int) -> None:
    """Switch kiosk mode off for a team: its tablet's address stops working."""
    from pulse.services.rating import kiosk as kiosk_service

    session = db_session(write=True)
    team = team_or_fail(team_id)
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
@click.argument("label", callback=plain_text)
@click.argument("url", callback=plain_text)
@click.option("--description", default="", callback=plain_text, help="One plain-English line under the link.")
@with_appcontext
def support_links_add(label: str, url: str, description: str) -> None:
    """Add a support link, e.g. pulse support-links add "Staff wellbeing service" https://...

    A retired link with the same label (in any case) comes back, with this address and description."""
    from pulse.services import structure
    from pulse.services.errors import InvalidInput

    session = db_session(write=True)
    earlier = structure.find_support_link(session, label)
    restored = earlier is not None and not earlier.active
    try:
        link = structure.add_support_link(session, label, url, description)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc
    action = "support_link.restore" if restored else "support_link.create"
    record_change(session, None, action, link.label, url=link.url)
    session.commit()
    click.echo(f"{'Brought back' if restored else 'Added'} support link {link.id}: {link.label}")


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
