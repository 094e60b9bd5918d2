"""The structure read API: departments, teams, shift bands, reason tags. Join codes are never listed."""

from __future__ import annotations

from tests.factories import make_org


def test_departments_list_active_teams(client, session) -> None:
    org = make_org(session, teams=3)
    org.teams[2].active = False
    session.commit()
    body = client.get("/api/v1/departments").get_json()
    assert [d["name"] for d in body] == ["Emergency Department"]
    assert [t["name"] for t in body[0]["teams"]] == ["Team 1", "Team 2"]
    assert body[0]["teams"][0] == {"id": org.teams[0].id, "name": "Team 1", "headcount": 20}


def test_department_by_id_and_unknown_id(client, session) -> None:
    org = make_org(session)
    assert client.get(f"/api/v1/departments/{org.department.id}").get_json()["name"] == "Emergency Department"
    response = client.get("/api/v1/departments/4242")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert "department_id" in response.get_json()["errors"]


def test_teams_filter_by_department(client, session) -> None:
    org = make_org(session)
    body = client.get(f"/api/v1/teams?department_id={org.department.id}").get_json()
    assert {t["id"] for t in body} == {t.id for t in org.teams}
    assert all(set(t) == {"id", "name", "department_id", "headcount", "active"} for t in body)
    missing = client.get("/api/v1/teams?department_id=999")
    assert missing.status_code == 404 and "department_id" in missing.get_json()["errors"]
    bad = client.get("/api/v1/teams?department_id=abc")
    assert bad.status_code == 422 and "department_id" in bad.get_json()["errors"]
    unknown = client.get("/api/v1/teams?colour=red")
    assert unknown.status_code == 422 and "colour" in unknown.get_json()["errors"]


def test_team_by_id(client, session) -> None:
    org = make_org(session)
    body = client.get(f"/api/v1/teams/{org.team.id}").get_json()
    assert body["name"] == "Team 1" and body["department_id"] == org.department.id
    assert client.get("/api/v1/teams/0").status_code == 404


def test_join_codes_never_leave_through_the_read_api(client, session) -> None:
    org = make_org(session)
    for path in ("/api/v1/departments", "/api/v1/teams", f"/api/v1/teams/{org.team.id}", "/api/openapi.json"):
        text = client.get(path).get_data(as_text=True)
        assert all(team.join_code not in text for team in org.teams), path


def test_shift_bands_and_reason_tags(client, session) -> None:
    org = make_org(session)
    org.tags[2].active = False
    session.commit()
    bands = client.get("/api/v1/shift-bands").get_json()
    assert [(b["name"], b["start"], b["end"]) for b in bands] == [
        ("Early", "07:00", "15:00"),
        ("Late", "14:30", "22:30"),
        ("Night", "22:00", "07:30"),
    ]
    tags = client.get("/api/v1/reason-tags").get_json()
    assert [t["label"] for t in tags] == ["Staffing levels", "Teamwork"]


def test_in_verified_mode_a_teams_headcount_is_its_roster_size(client, session) -> None:
    from tests.factories_roster import put_on_team, staff, verified

    org = make_org(session)  # typed headcount 20
    put_on_team(session, org.teams[0], *staff(7))
    put_on_team(session, org.teams[1], *staff(2))
    verified(session)
    team = client.get(f"/api/v1/teams/{org.teams[0].id}").get_json()
    assert team["headcount"] == 7
    teams = client.get("/api/v1/teams").get_json()
    assert [t["headcount"] for t in teams] == [7, 2]
    department = client.get(f"/api/v1/departments/{org.department.id}").get_json()
    assert [t["headcount"] for t in department["teams"]] == [7, 2]
    assert client.get("/api/v1/departments").get_json()[0] == department
