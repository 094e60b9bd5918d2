"""A manager acts only in their own departments; attempts to reach further are refused and change nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import AuditEvent, Team
from tests.admin.conftest import People, csrf_token, post, sign_in


def team_department(session: Session, team_id: int) -> int:
    session.rollback()
    return session.scalar(select(Team.department_id).where(Team.id == team_id))  # type: ignore[return-value]


def test_a_manager_cannot_pull_another_departments_team_into_their_own(
    client: FlaskClient, people: People, session: Session
) -> None:
    other_team = people.other_department.teams[0]
    sign_in(client, people.manager.email)
    response = post(client, f"/admin/teams/{other_team.id}/move", department_id=str(people.org.department.id))
    assert response.status_code == 403
    assert team_department(session, other_team.id) == people.other_department.id


def test_a_manager_cannot_push_their_team_into_a_department_they_do_not_manage(
    client: FlaskClient, people: People, session: Session
) -> None:
    sign_in(client, people.manager.email)
    team = people.org.team
    response = post(client, f"/admin/teams/{team.id}/move", department_id=str(people.other_department.id))
    assert response.status_code == 403
    assert team_department(session, team.id) == people.org.department.id


def test_a_manager_moves_a_team_between_their_departments_and_it_is_audited(
    client: FlaskClient, people: People, session: Session
) -> None:
    sign_in(client, people.manager.email)
    team = people.org.team
    response = post(client, f"/admin/teams/{team.id}/move", department_id=str(people.second_department.id))
    assert response.status_code == 303
    assert team_department(session, team.id) == people.second_department.id
    event = session.scalars(select(AuditEvent)).one()
    assert (event.actor, event.action, event.target) == (people.manager.email, "team.move", team.name)
    assert event.detail == {"source": "Emergency Department", "to": "Surgery"}


def test_a_manager_cannot_give_themselves_more_departments(client: FlaskClient, people: People) -> None:
    sign_in(client, people.manager.email)
    ids = [str(people.other_department.id)]
    response = client.post(
        f"/admin/users/{people.manager.id}/departments",
        data={"department_ids": ids, "csrf_token": csrf_token(client, "/admin/")},
    )
    assert response.status_code == 403
    assert "Maternity" not in client.get("/admin/").get_data(as_text=True)


def test_a_manager_cannot_rename_or_create_departments(client: FlaskClient, people: People) -> None:
    sign_in(client, people.manager.email)
    assert post(client, "/admin/departments", name="Mine now").status_code == 403
    rename = post(client, f"/admin/departments/{people.org.department.id}", name="Renamed", active="true")
    assert rename.status_code == 403


def test_team_pages_outside_your_departments_are_refused(client: FlaskClient, people: People) -> None:
    sign_in(client, people.other_manager.email)
    team = people.org.team
    assert client.get(f"/admin/teams/{team.id}").status_code == 403
    assert post(client, f"/admin/teams/{team.id}/kiosk", action="enable").status_code == 403
    assert post(client, f"/admin/teams/{team.id}/join-code").status_code == 403


def test_unknown_ids_are_404_not_500(client: FlaskClient, people: People) -> None:
    sign_in(client, people.admin.email)
    assert client.get("/admin/teams/99999").status_code == 404
    assert post(client, "/admin/teams/99999/move", department_id="1").status_code == 404
    assert post(client, f"/admin/teams/{people.org.team.id}/move", department_id="99999").status_code == 404
    assert post(client, f"/admin/teams/{people.org.team.id}/move", department_id="x").status_code == 422


def test_bad_team_input_is_refused_naming_the_field(
    client: FlaskClient, people: People, session: Session
) -> None:
    sign_in(client, people.manager.email)
    team = people.org.team
    for data, field in [
        ({"name": "", "headcount": "5", "active": "true"}, "name"),
        ({"name": "X", "headcount": "lots", "active": "true"}, "headcount"),
        ({"name": "X", "headcount": "-1", "active": "true"}, "headcount"),
        ({"name": "Team 2", "headcount": "5", "active": "true"}, "name"),  # its sister team's name
    ]:
        response = post(client, f"/admin/teams/{team.id}", **data)
        assert response.status_code == 422, data
        assert f'href="#{field}"' in response.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(Team.name).where(Team.id == team.id)) == team.name
