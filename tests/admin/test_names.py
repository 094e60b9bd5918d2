"""Names are one line of ordinary text: control characters (NUL and CR/LF among them), line separators and
bidirectional overrides or isolates are refused, with the field named, in the admin area's forms, the
structure CSV and the `pulse` commands (issue 14, points 6 and 9)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.cli import cli
from pulse.models import Department, Team, User
from pulse.services.structure import StructureImportError, read_structure_csv
from tests.admin.conftest import People, fresh, post, sign_in

REFUSED = {
    "NUL": "Ward\x009",
    "CR/LF": "Ward 9\r\nX-Injected: 1",
    "LF": "Ward 9\nnext line",
    "tab": "Ward\t9",
    "DEL": "Ward\x7f9",
    "C1": "Ward\x859",
    "line separator": "Ward\u20289",
    "right-to-left override": "Ward \u202e9 draW",
    "left-to-right isolate": "Ward \u20669\u2069",
}
ALLOWED = ["Ward 9", "Urgences (Hôpital Nord)", "وحدة العناية المركزة", "Ward \u200f9", "Café & Co <Night>"]


@pytest.mark.parametrize("name", REFUSED.values(), ids=REFUSED.keys())
def test_a_team_name_with_a_refused_character_is_refused_beside_the_field(
    client: FlaskClient, people: People, session: Session, name: str
) -> None:
    sign_in(client, people.admin.email)
    department = people.org.department.id
    response = post(client, f"/admin/departments/{department}/teams", name=name, headcount="12")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'href="#new-team-{department}-name"' in page and "one line of ordinary text" in page
    fresh(session)
    assert name not in session.scalars(select(Team.name)).all()  # (PostgreSQL cannot even compare with NUL)


@pytest.mark.parametrize("name", ALLOWED)
def test_ordinary_names_in_any_script_are_taken(
    client: FlaskClient, people: People, session: Session, name: str
) -> None:
    sign_in(client, people.admin.email)
    response = post(client, f"/admin/departments/{people.org.department.id}/teams", name=name, headcount="12")
    assert response.status_code == 303
    fresh(session)
    assert session.scalar(select(Team).where(Team.name == name)) is not None


@pytest.mark.parametrize("name", REFUSED.values(), ids=REFUSED.keys())
def test_department_names_and_people_are_refused_alike(
    client: FlaskClient, people: People, session: Session, name: str
) -> None:
    sign_in(client, people.admin.email)
    assert post(client, "/admin/departments", name=name).status_code == 422
    created = post(client, "/admin/users", email="new@example.nhs.uk", name=name, role="admin", password="")
    assert created.status_code == 422
    fresh(session)
    assert name not in session.scalars(select(Department.name)).all()
    assert session.scalar(select(User).where(User.email == "new@example.nhs.uk")) is None


@pytest.mark.parametrize("name", REFUSED.values(), ids=REFUSED.keys())
def test_the_structure_csv_refuses_them_naming_the_field(name: str) -> None:
    cell = name.replace('"', '""')
    text = f'kind,name,department,headcount\ndepartment,ED,,\nteam,"{cell}",ED,12\n'
    with pytest.raises(StructureImportError) as refused:
        read_structure_csv(text)
    # The line a row ends on: a quoted line break inside the name makes it the fourth.
    assert [(e.line >= 3, e.field) for e in refused.value.errors] == [(True, "name")]
    assert "one line of ordinary text" in str(refused.value.errors[0])


@pytest.mark.parametrize("name", ["Ada\nAdmin", "Ada \u202eAdmin", "Ada\x00"])
def test_pulse_create_admin_refuses_them(app, database_url: str, session: Session, name: str) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        cli,
        ["create-admin", "ada@example.nhs.uk", "--name", name, "--password", "a long enough passphrase here"],
        env={"PULSE_DATABASE_URL": database_url, "PULSE_ENV": "test"},
    )
    assert result.exit_code == 2 and "one line of ordinary text" in result.output
    assert session.scalar(select(User)) is None


def test_a_team_name_already_taken_is_refused_on_the_page_not_with_a_500(
    client: FlaskClient, people: People
) -> None:
    sign_in(client, people.admin.email)
    department = people.org.department.id
    response = post(
        client, f"/admin/departments/{department}/teams", name=people.org.team.name, headcount="12"
    )
    assert response.status_code == 422
    assert "already has a team called" in response.get_data(as_text=True)
