"""Open rating (the join code alone), honestly limited (docs/anonymity.md A9): at most the team's headcount of
ratings per shift, and a week with more contributors than the team has staff is hidden and reported."""

from __future__ import annotations

from click.testing import CliRunner

from pulse.cli import cli
from pulse.models import Level
from pulse.services.publication import publish_week
from tests.api.test_ratings import URL, assert_problem, team_week
from tests.factories import add_week, make_org, rating_body
from tests.services.test_publication import TODAY, WEEK, cell, shown


def test_a_team_shift_takes_at_most_its_headcount_of_ratings(client, session) -> None:
    """Sixty fresh 'devices' cannot lift a team of 12 to 69 contributors any more: the 13th is refused."""
    org = make_org(session, headcount=12)
    statuses = [client.post(URL, json=rating_body(org.team.join_code)).status_code for _ in range(12)]
    assert statuses == [201] * 12
    refused = assert_problem(client.post(URL, json=rating_body(org.team.join_code)), 409)
    assert refused["type"] == "urn:pulse:problem:shift-full"
    assert "as many ratings" in refused["detail"]
    assert team_week(session, org.team.id) == (0, 0, 12, 12)
    # Another team's shift has its own cap.
    assert client.post(URL, json=rating_body(org.teams[1].join_code)).status_code == 201


def test_a_team_without_a_headcount_cannot_be_rated_until_it_has_one(client, session) -> None:
    org = make_org(session, headcount=0)
    refused = assert_problem(client.post(URL, json=rating_body(org.team.join_code)), 409)
    assert refused["type"] == "urn:pulse:problem:team-not-ready"
    assert "size has not been set" in refused["detail"]
    org.team.headcount = 15
    session.commit()
    assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201


def test_a_week_with_more_contributors_than_staff_is_hidden_and_flagged(session, database_url) -> None:
    org = make_org(session, teams=3, headcount=20)
    # Team 1: 25 contributors for a headcount of 20 (ratings added from devices of someone's own).
    add_week(session, org, WEEK, {0: (5, 5, 20, 25), 1: (3, 5, 10, 15), 2: (2, 6, 9, 14)})
    publish_week(session, WEEK, k=5, today=TODAY)
    session.commit()
    assert shown(cell(session, Level.TEAM, org.teams[0].id)) is None
    assert shown(cell(session, Level.TEAM, org.teams[1].id)) is not None
    result = CliRunner().invoke(cli, ["audit"], env={"PULSE_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "FLAG: week of 2026-11-09: Team 1 had more contributors than its headcount" in result.output
    assert "Team 2 had more" not in result.output
