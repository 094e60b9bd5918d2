"""The published-figures API: whole weeks only, hidden looks exactly like empty, export agrees with series."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests.factories import add_week, make_org

WEEK = dt.date(2026, 11, 9)  # closed by the test clock's Wednesday 18 November
EARLIER = WEEK - dt.timedelta(weeks=1)
RANGE = {"from": EARLIER.isoformat(), "to": (WEEK + dt.timedelta(days=6)).isoformat()}


@pytest.fixture
def org(session):  # type: ignore[no-untyped-def]
    org = make_org(session, teams=3)
    # Earlier week: team 0 has 3 contributors (hidden); team 2 none at all (empty).
    add_week(session, org, EARLIER, {0: (1, 1, 1, 3), 1: (2, 4, 8, 14), 2: (0, 0, 0, 0)})
    add_week(session, org, WEEK, {0: (2, 3, 5, 10), 1: (1, 5, 9, 15), 2: (1, 2, 6, 9)})
    return org


def test_first_read_publishes_closed_weeks(client, org) -> None:
    body = client.get("/api/v1/figures/organisation/weeks", query_string=RANGE).get_json()
    assert [w["iso_week"] for w in body] == ["2026-W45", "2026-W46"]
    assert body[1] == {
        "week_start": "2026-11-09",
        "iso_week": "2026-W46",
        "red": 4,
        "amber": 10,
        "green": 20,
        "ratings": 34,
        "contributors": 34,
        "pct_red": 11.8,
        "pct_amber": 29.4,
        "pct_green": 58.8,
        "net_score": 47.1,
        "note": None,
        "rating_mode": "open",
    }


def test_the_current_week_is_not_published(client, org, session) -> None:
    add_week(session, org, dt.date(2026, 11, 16), {1: (1, 1, 10, 12)})
    body = client.get("/api/v1/figures/organisation/weeks").get_json()
    assert [w["week_start"] for w in body] == ["2026-11-02", "2026-11-09"]


def test_a_hidden_team_looks_exactly_like_an_empty_one(client, org) -> None:
    hidden = client.get(f"/api/v1/figures/teams/{org.teams[0].id}/weeks", query_string=RANGE).get_json()[0]
    empty = client.get(f"/api/v1/figures/teams/{org.teams[2].id}/weeks", query_string=RANGE).get_json()[0]
    assert hidden == empty
    assert hidden["note"] == "not enough ratings to show" and hidden["red"] is None


def test_department_and_team_series(client, org) -> None:
    dept = client.get(f"/api/v1/figures/departments/{org.department.id}/weeks", query_string=RANGE).get_json()
    assert [w["contributors"] for w in dept] == [17, 34]
    team = client.get(f"/api/v1/figures/teams/{org.teams[1].id}/weeks", query_string=RANGE).get_json()
    # Earlier, team 1 is hidden too: the department (17) minus team 1 (14) would give team 0's 3 away.
    assert [w["green"] for w in team] == [None, 9]


def test_all_departments_in_one_answer_match_their_own_series(client, org) -> None:
    every = client.get("/api/v1/figures/departments/weeks", query_string=RANGE)
    assert every.status_code == 200
    [department] = every.get_json()
    assert (department["department_id"], department["name"]) == (org.department.id, org.department.name)
    own = client.get(f"/api/v1/figures/departments/{org.department.id}/weeks", query_string=RANGE).get_json()
    assert department["weeks"] == own
    assert [w["contributors"] for w in department["weeks"]] == [17, 34]
    later = {"from": WEEK.isoformat(), "to": RANGE["to"]}
    [only_latest] = client.get("/api/v1/figures/departments/weeks", query_string=later).get_json()
    assert [w["iso_week"] for w in only_latest["weeks"]] == ["2026-W46"]


def test_organisation_days_by_band(client, org) -> None:
    days = client.get("/api/v1/figures/organisation/days", query_string=RANGE).get_json()
    assert len(days) == 14
    assert [b["band"] for b in days[0]["bands"]] == ["Early", "Late", "Night"]
    shown_total = sum(d["ratings"] or 0 for d in days[7:])
    week_total = client.get("/api/v1/figures/organisation/weeks", query_string=RANGE).get_json()[1]["ratings"]
    assert shown_total <= week_total


def test_reasons_are_listed_per_week(client, org, session) -> None:
    body = client.get("/api/v1/figures/organisation/reasons", query_string=RANGE).get_json()
    assert [w["iso_week"] for w in body] == ["2026-W45", "2026-W46"]
    assert all(w["reasons"] == [] for w in body)  # no reasons were given in these weeks


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-11-03"}, "from"),  # a Tuesday: cuts a week
        ({"to": "2026-11-14"}, "to"),  # a Saturday
        ({"from": "2026-11-09", "to": "2026-11-08"}, "from"),
        ({"from": "2010-01-04", "to": "2026-11-15"}, "to"),  # too many weeks at once
        ({"from": "yesterday"}, "from"),
        ({"days": "7"}, "days"),  # no rolling windows
    ],
)
def test_ranges_that_cut_weeks_are_refused(client, org, query: dict, field: str) -> None:
    response = client.get("/api/v1/figures/organisation/weeks", query_string=query)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize(
    "path", ["/api/v1/figures/teams/999/weeks", "/api/v1/figures/departments/999/reasons"]
)
def test_unknown_units_are_404(client, org, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_export_agrees_with_the_series(client, org) -> None:
    rows = client.get("/api/v1/figures/export.json").get_json()
    series = client.get(f"/api/v1/figures/teams/{org.teams[1].id}/weeks", query_string=RANGE).get_json()
    exported = [r for r in rows if r["level"] == "team" and r["unit_id"] == org.teams[1].id]
    assert [(r["period"], r["red"], r["amber"], r["green"], r["contributors"]) for r in exported] == [
        (w["week_start"], w["red"], w["amber"], w["green"], w["contributors"]) for w in series
    ]
    hidden = next(r for r in rows if r["level"] == "team" and r["unit_id"] == org.teams[0].id)
    empty = next(r for r in rows if r["level"] == "team" and r["unit_id"] == org.teams[2].id)
    assert {k: v for k, v in hidden.items() if k not in ("unit_id", "name")} == {
        k: v for k, v in empty.items() if k not in ("unit_id", "name")
    }


def test_hidden_and_empty_rows_say_not_enough_ratings_to_show(client, org) -> None:
    rows = [r for r in client.get("/api/v1/figures/export.json").get_json() if r["table"] == "figures"]
    team = {(r["unit_id"], r["period"]): r for r in rows if r["level"] == "team"}
    hidden, empty = team[(org.teams[0].id, EARLIER.isoformat())], team[(org.teams[2].id, EARLIER.isoformat())]
    shown = team[(org.teams[0].id, WEEK.isoformat())]
    assert hidden["note"] == empty["note"] == "not enough ratings to show"
    assert hidden["red"] is None and shown["note"] is None and shown["red"] == 2
    as_csv = list(
        csv.DictReader(io.StringIO(client.get("/api/v1/figures/export.csv").get_data(as_text=True)))
    )
    by_key = {(r["level"], r["unit_id"], r["period"]): r for r in as_csv}
    for unit in (org.teams[0].id, org.teams[2].id):
        row = by_key[("team", str(unit), EARLIER.isoformat())]
        assert (row["note"], row["red"], row["ratings"]) == ("not enough ratings to show", "", "")
    assert by_key[("team", str(org.teams[0].id), WEEK.isoformat())]["note"] == ""


def test_csv_export_has_the_same_rows(client, org) -> None:
    as_json = client.get("/api/v1/figures/export.json").get_json()
    response = client.get("/api/v1/figures/export.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(as_json)
    first = {k: ("" if v is None else str(v)) for k, v in as_json[0].items()}
    assert rows[0] == first


def test_nothing_published_yet_is_an_empty_series(client, session) -> None:
    make_org(session)
    assert client.get("/api/v1/figures/organisation/weeks").get_json() == []
    assert client.get("/api/v1/figures/organisation/days").get_json() == []


def test_the_earliest_possible_week_is_answered_not_crashed(client, org) -> None:
    response = client.get("/api/v1/figures/organisation/weeks", query_string={"to": "0001-01-07"})
    assert response.status_code == 200 and response.get_json() == []
