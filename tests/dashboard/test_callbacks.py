"""Callbacks as functions: fetch published figures, draw, return. And nothing beyond the open-data export."""

from __future__ import annotations

import importlib

import plotly.graph_objects as go

from dashboard import data


def page(name: str):  # type: ignore[no-untyped-def]
    """A page module, as the app registered it (pages can only be imported once the app exists)."""
    return importlib.import_module(f"dashboard.pages.{name}")


def test_organisation_charts(dash_app, seeded) -> None:
    with dash_app.test_request_context():
        out = page("organisation").update_organisation_charts("12")
    trend = out[1]
    assert all(isinstance(f, go.Figure) for f in out[:5])
    assert list(next(t for t in trend.data if t.type == "bar").x) == ["2026-W44", "2026-W45", "2026-W46"]
    assert "2026-W46" in out[5] and "net score" in out[5]
    assert out[10].startswith("Today's figure appears once enough people have rated")


def test_department_charts_show_hidden_team_weeks_as_gaps(dash_app, seeded) -> None:
    with dash_app.test_request_context():
        out = page("department").update_department_charts("12", seeded.department.id)
    heatmap, notice = out[1].data[0], out[-1]
    row = list(heatmap.y).index("Team 1")
    assert heatmap.z[row][0] is None, "3 people in the first week: a gap, not a zero"
    assert heatmap.z[row][1] is not None
    assert notice == ""


def test_team_chart_explains_hidden_weeks(dash_app, seeded) -> None:
    with dash_app.test_request_context():
        notice = page("team").update_team_chart("12", seeded.teams[0].id)[-1]
    assert "not shown separately, to protect anonymity" in notice
    assert "1 of these 3 weeks" in notice


def test_unknown_units_are_explained(dash_app, seeded) -> None:
    with dash_app.test_request_context():
        assert "no department at this address" in page("department").update_department_charts("12", 999)[-1]
        assert "no team at this address" in page("team").update_team_chart("12", 999)[-1]


def test_ranges_are_deep_links_and_the_current_one_says_so(dash_app, seeded) -> None:
    with dash_app.test_request_context():
        layout = page("department").layout(department_id=str(seeded.department.id), weeks="52")
    links = [c for c in _walk(layout) if type(c).__name__ == "A"]
    assert [a.href for a in links] == [
        f"/dashboard/department/{seeded.department.id}?weeks={w}" for w in ("12", "26", "52", "all")
    ]
    current = [a for a in links if getattr(a, "aria-current", None) == "page"]
    assert [a.children for a in current] == ["52 weeks"]


def _walk(component):  # type: ignore[no-untyped-def]
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and hasattr(child, "children"):
            yield from _walk(child)


def test_search_goes_to_the_unit_or_explains(dash_app, seeded) -> None:
    client = dash_app.test_client()
    assert client.get("/dashboard/go?to=Emergency+Department+/+Team+2").location.endswith(
        f"/dashboard/team/{seeded.teams[1].id}"
    )
    assert client.get("/dashboard/go?to=emergency%20department").location.endswith(
        f"/dashboard/department/{seeded.department.id}"
    )
    assert "notfound=ward%2099" in client.get("/dashboard/go?to=Ward 99").location


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
