"""Callbacks as functions: fetch published figures, draw, return. And nothing beyond the open-data export."""

from __future__ import annotations

import importlib

import plotly.graph_objects as go

from dashboard import data, search


def page(name: str):  # type: ignore[no-untyped-def]
    """A page module, as the app registered it (pages can only be imported once the app exists)."""
    return importlib.import_module(f"dashboard.pages.{name}")


def walk(component):  # type: ignore[no-untyped-def]
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            yield from walk(child)


def find(layout, component_id: str):  # type: ignore[no-untyped-def]
    return next(c for c in walk(layout) if getattr(c, "id", None) == component_id)


def test_the_organisation_page_arrives_with_its_charts(dash_app, seeded) -> None:
    with dash_app.test_request_context():
        layout = page("organisation").layout(weeks="12")
    graphs = [c for c in walk(layout) if type(c).__name__ == "Graph"]
    assert len(graphs) == 6 and all(go.Figure(g.figure) for g in graphs), "each figure valid for plotly"
    trend = go.Figure(find(layout, "org-trend-graph").figure)
    assert list(next(t for t in trend.data if t.type == "bar").x) == [
        "2026-10-26",
        "2026-11-02",
        "2026-11-09",
    ]
    assert list(trend.layout.xaxis.ticktext)[-1] == "w/c<br>9 Nov", "weeks are labelled as people name them"
    week = find(layout, "org-week-summary").children
    assert "w/c 9 Nov 2026 (2026-W46)" in week and "net score" in week
    assert find(layout, "org-today").children.startswith(
        "Today's figure appears once enough people have rated"
    )


def test_department_page_shows_hidden_team_weeks_as_hatched_gaps(dash_app, seeded) -> None:
    with dash_app.test_request_context():
        layout = page("department").layout(department_id=str(seeded.department.id), weeks="12")
    heatmap = go.Figure(find(layout, "dept-teams-graph").figure)
    cells = heatmap.data[0]
    row = list(cells.y).index("Team 1")
    assert cells.z[row][0] is None, "3 people in the first week: a gap, not a zero"
    assert cells.z[row][1] is not None
    assert "not shown: too few ratings" in cells.hovertext[row][0]
    hatched = {(image.x, image.y) for image in heatmap.layout.images}
    assert ("2026-10-26", "Team 1") in hatched and ("2026-11-02", "Team 1") not in hatched


def test_team_page_explains_hidden_weeks(dash_app, seeded) -> None:
    with dash_app.test_request_context():
        layout = page("team").layout(team_id=str(seeded.teams[0].id), weeks="12")
    notice = find(layout, "team-notice").children
    assert "not shown separately, to protect anonymity" in notice
    assert "1 of these 3 weeks" in notice


def test_unknown_units_are_explained(dash_app, seeded) -> None:
    with dash_app.test_request_context():
        assert (
            "no department at this address" in find(page("department").layout("999"), "dept-notice").children
        )
        assert "no team at this address" in find(page("team").layout("999"), "team-notice").children


def test_ranges_are_deep_links_and_the_current_one_says_so(dash_app, seeded) -> None:
    with dash_app.test_request_context():
        layout = page("department").layout(department_id=str(seeded.department.id), weeks="52")
    range_nav = next(c for c in walk(layout) if getattr(c, "className", None) == "range")
    links = [c for c in walk(range_nav) if type(c).__name__ == "Link"]
    assert [a.href for a in links] == [
        f"/dashboard/department/{seeded.department.id}?weeks={w}" for w in ("12", "26", "all")
    ]
    current = [c for c in walk(range_nav) if getattr(c, "aria-current", None) == "page"]
    assert [a.children for a in current] == ["52 weeks"]


def test_search_goes_to_the_unit_or_lists_the_matches(dash_app, seeded) -> None:
    client = dash_app.test_client()
    assert client.get("/dashboard/go?to=Emergency+Department+/+Team+2").location.endswith(
        f"/dashboard/team/{seeded.teams[1].id}"
    )
    assert client.get("/dashboard/go?to=emergency%20department").location.endswith(
        f"/dashboard/department/{seeded.department.id}"
    )
    assert client.get("/dashboard/go?to=team").location.endswith("/dashboard/search?to=team"), "3 teams"
    assert client.get("/dashboard/go?to=Ward 99").location.endswith("/dashboard/search?to=Ward%2099")
    with dash_app.test_request_context():
        listed = page("search").layout(to="team")
    assert "3 names match" in find(listed, "search-page").children[0].children
    links = [c for c in walk(listed) if type(c).__name__ == "Link"]
    assert [link.href for link in links] == [f"/dashboard/team/{t.id}" for t in seeded.teams]


UNITS = [
    {"id": 1, "name": "Acute Medicine", "teams": [{"id": 1, "name": "Ward 1"}, {"id": 2, "name": "Ward 10"}]},
    {
        "id": 2,
        "name": "Emergency Department",
        "teams": [{"id": 3, "name": "Paediatric ED"}, {"id": 4, "name": "ED Reception"}],
    },
]


def test_search_matches_any_part_of_a_name_best_first() -> None:
    assert [t.name for t in search.matches(UNITS, "ward")] == ["Ward 1", "Ward 10"]
    assert search.destination(UNITS, "ward") is None, "two wards: list them"
    assert search.destination(UNITS, "Ward 1") == "/dashboard/team/1", "the exact name goes straight there"
    assert search.destination(UNITS, "reception") == "/dashboard/team/4", "the only name holding it"
    assert [t.name for t in search.matches(UNITS, "ED")] == [
        "ED Reception",
        "Paediatric ED",
        "Acute Medicine",  # "ed" inside "Medicine": any part of a name, but last
    ]
    assert [t.name for t in search.matches(UNITS, "emergency ward")] == []
    assert [t.name for t in search.suggestions(UNITS, "paediatrik ed")] == ["Paediatric ED"]


def test_dashboard_shows_nothing_the_export_does_not_contain(dash_app, seeded) -> None:
    """Every figure the pages fetch appears, identically, in the open-data export."""
    client = dash_app.test_client()
    exported = {
        (row["level"], row["unit_id"], row["period"]): (
            row["red"],
            row["amber"],
            row["green"],
            row["contributors"],
        )
        for row in client.get("/api/v1/figures/export.json").get_json()
        if row["table"] == "figures"
    }

    def check(level: str, unit_id: int, period, figures: dict) -> None:  # type: ignore[no-untyped-def]
        key = (level, unit_id, str(period))
        assert key in exported, key
        assert exported[key] == (figures["red"], figures["amber"], figures["green"], figures["contributors"])

    with dash_app.test_request_context():
        org = data.organisation("all")
        for w in org["series"]:
            check("organisation", 0, w["week_start"], w)
        for d in org["days"]:
            check("day", 0, d["shift_date"], d)
            for b in d["bands"]:
                check("shift", b["band_id"], d["shift_date"], b)
        latest = org["latest"]["week_start"]
        for u in org["departments"]:
            check("department", u["unit_id"], latest, u)
        dept = data.department(seeded.department.id, "all")
        for w in dept["series"]:
            check("department", seeded.department.id, w["week_start"], w)
        for t in dept["grid"]:
            for period, figures in t["weeks"].items():
                check("team", t["team_id"], period, figures)
        for member in seeded.teams:
            for w in data.team(member.id, "all")["series"]:
                check("team", member.id, w["week_start"], w)
