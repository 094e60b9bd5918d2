"""A team's admin page and the departments' list: replacing a team's link asks first, a team links to its
figures and is told when its headcount means they will never be shown; the home page folds departments."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import Team
from pulse.services import structure
from tests.admin.conftest import People, fresh, post, sign_in


def test_replacing_the_link_asks_first_and_a_bare_post_changes_nothing(
    client: FlaskClient, people: People, session: Session
) -> None:
    sign_in(client, people.manager.email)
    team = people.org.team
    before = team.join_code
    page = client.get(f"/admin/teams/{team.id}").get_data(as_text=True)
    assert f'href="/admin/teams/{team.id}/join-code"' in page, (
        "a link to the confirmation, not a one-click form"
    )
    confirm = client.get(f"/admin/teams/{team.id}/join-code")
    assert confirm.status_code == 200
    assert "Every printed poster of Team 1 stops working at once" in confirm.get_data(as_text=True)

    bare = post(client, f"/admin/teams/{team.id}/join-code")
    assert bare.status_code == 422
    assert "Confirm that every poster of the team will stop working." in bare.get_data(as_text=True)
    fresh(session)
    assert session.get(Team, team.id).join_code == before

    done = post(client, f"/admin/teams/{team.id}/join-code", confirm="replace")
    assert done.status_code == 303
    fresh(session)
    assert session.get(Team, team.id).join_code != before


def test_a_team_page_links_to_its_figures(client: FlaskClient, people: People) -> None:
    sign_in(client, people.manager.email)
    team = people.org.team
    page = client.get(f"/admin/teams/{team.id}").get_data(as_text=True)
    assert f'<a href="/dashboard/team/{team.id}">See Team 1\'s figures on the dashboard</a>' in page
    assert f'href="/dashboard/department/{people.org.department.id}"' in page
    assert "will never be shown" not in page, "20 staff: its figures can be shown"


def test_a_team_below_k_is_told_its_figures_will_never_be_shown(
    client: FlaskClient, people: People, session: Session
) -> None:
    small = structure.add_team(session, people.org.department, "Night Porters", 4)
    session.commit()
    sign_in(client, people.manager.email)
    page = client.get(f"/admin/teams/{small.id}").get_data(as_text=True)
    assert "Night Porters's own figures will never be shown:" in page
    assert "its headcount\n  (4) is below the minimum group size (5)" in page
    home = client.get("/admin/").get_data(as_text=True)
    assert "below 5: figures never shown" in home


def test_the_home_page_folds_departments_and_finds_teams(
    client: FlaskClient, people: People, session: Session
) -> None:
    for n in range(1, 11):
        structure.add_team(session, people.second_department, f"Ward {n}", 20)
    session.commit()
    sign_in(client, people.admin.email)
    home = client.get("/admin/").get_data(as_text=True)
    assert home.count('<details class="card department"') == 3
    assert (
        '<details class="card department" id="department-' in home
        and " open>" not in home.split('<details class="card department"')[1].split(">")[0]
    ), "folded: one line per department"
    assert "10 teams, 200 staff" in home

    found = client.get("/admin/?q=ward 1").get_data(as_text=True)
    teams = sorted(t for t in session.scalars(select(Team.name)) if "ward 1" in t.lower())
    assert teams == ["Ward 1", "Ward 10"]
    assert "2 team(s) in 1 department(s) match" in found
    assert ">Ward 1</a>" in found and ">Ward 10</a>" in found and ">Ward 2</a>" not in found
    assert ">Labour Ward</a>" not in found
    assert "No team or department is called" in client.get("/admin/?q=zebra").get_data(as_text=True)
