"""What the `pulse` commands share: the check on one-line text, where Pulse is reached, the organisation's
clock, the database URL without its password, CSV files in and out, and finding a team by its id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from pulse.runtime import db_session, runtime

if TYPE_CHECKING:
    from pulse.models import Team
    from pulse.services.csv_rows import CsvImportError


def plain_text(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A click callback: names, labels and addresses are one line of ordinary text, as in the admin area's
    forms (pulse.schemas.text)."""
    from pulse.schemas.text import refused_character

    found = refused_character(value) if value is not None else None
    if found is not None:
        raise click.BadParameter(f"use one line of ordinary text: this has {found}")
    return value


def public_base() -> str:
    """Where staff and administrators reach Pulse: PULSE_PUBLIC_URL, else the configured host and port."""
    settings = runtime().settings
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"


def public_base_or_placeholder() -> str:
    """PULSE_PUBLIC_URL, else a placeholder for the operator to fill in: for addresses handed to others (a
    ward tablet's, enrolment links), which the server's own host and port would not reach."""
    return runtime().settings.public_url.rstrip("/") or "https://<your Pulse address>"


def local_now() -> dt.datetime:
    """The organisation's time now, in its time zone."""
    rt = runtime()
    return rt.now().astimezone(rt.settings.tz)


def safe_url() -> str:
    """The database's URL, its password hidden."""
    return runtime().engine.url.render_as_string(hide_password=True)


def read_csv_file(csv_file: Path) -> str:
    """The text of a CSV file to import: UTF-8, with or without the byte order mark spreadsheets add."""
    try:
        return csv_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{csv_file} is not UTF-8 text") from exc


def refuse_import(csv_file: Path, refused: CsvImportError) -> NoReturn:
    """A file with bad rows imports nothing: undo the command's changes, name each row's error, and stop."""
    db_session().rollback()
    for error in refused.errors:
        click.echo(f"{csv_file}: {error}", err=True)
    count = len(refused.errors)
    raise click.ClickException(f"{count} error(s) in {csv_file}; nothing was imported.") from refused


def write_csv_output(text: str, csv_file: Path | None) -> None:
    """An export: to `csv_file`, or to standard output when none is given."""
    if csv_file is None:
        click.echo(text, nl=False)
    else:
        csv_file.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {csv_file}")


def team_or_fail(team_id: int) -> Team:
    """The team with this id, in the command's session, or the command stops saying there is none."""
    from pulse.services import structure

    team = structure.get_team(db_session(), team_id)
    if team is None:
        raise click.ClickException(f"There is no team with id {team_id}.")
    return team
