"""SPC charts as pure functions of hand-built weeks: Making Data Count colours and icons, readings in plain
English, hidden weeks as gaps, actions as markers, rebased limits as separate steps."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest

from dashboard import spc
from dashboard.spc_figure import ACTIONS_NAME, spc_view
from pulse import stats
from pulse.published import describe_figures, iso_week

START = dt.date(2026, 3, 2)  # a Monday, 2026-W10
GOOD = [(2, 3, 15), (1, 4, 15), (2, 2, 16), (3, 3, 14), (2, 4, 14), (1, 3, 16), (2, 3, 15)]  # +65 or so
TOUGH = [(6, 6, 8), (7, 5, 8), (5, 7, 8), (6, 5, 9), (6, 7, 7), (7, 6, 7), (5, 6, 9)]  # +10 or so
ASSETS = Path(__file__).resolve().parents[2] / "dashboard" / "assets"


def week(i: int, counts: tuple[int, int, int] | None) -> dict[str, Any]:
    day = START + dt.timedelta(weeks=i)
    figures = describe_figures(*(counts or (None, None, None)), 10 if counts else None)
    return {"week_start": day, "iso_week": iso_week(day), **figures}


def monday(number: int) -> str:
    """The Monday of ISO week 2026-W<number>: a week's place on a chart's x axis."""
    return dt.date.fromisocalendar(2026, number, 1).isoformat()


def series(counts: list[tuple[int, int, int] | None]) -> list[dict[str, Any]]:
    return [week(i, c) for i, c in enumerate(counts)]


def action(i: int, summary: str = "Protected breaks on every shift.", *, rebase: bool = False) -> dict:
    day = START + dt.timedelta(weeks=i)
    return {
        "id": i,
        "department_id": 1,
        "department": "Emergency Department",
        "taken_on": day + dt.timedelta(days=2),
        "week_start": day,
        "summary": summary,
        "reasons": ["Staffing levels", "Workload"],
        "rebase": rebase,
    }


def traces(fig: Any, name: str) -> list[Any]:
    return [t for t in go.Figure(fig).data if t.name == name]


def test_seven_weeks_below_average_read_as_a_concern_with_its_icon() -> None:
    view = spc_view(spc.spc_data(series(GOOD + TOUGH), None), "net_score")
    assert view.reading == (
        "Special cause of concern: 7 weeks below average since 20 April 2026. "
        "The average net score is +38; weeks from +16 to +60 are within the usual variation."
    )
    assert view.icon == ("spc/concern-low.svg", "Special cause of concern, low")


def test_points_take_the_making_data_count_colours_and_a_shape_and_name_each() -> None:
    fig = go.Figure(spc_view(spc.spc_data(series(GOOD + TOUGH), None), "net_score").figure)
    concern = traces(fig, "Special cause of concern")[0]
    improvement = traces(fig, "Special cause of improvement")[0]
    assert concern.marker.color == "#ED8B00" and improvement.marker.color == "#41B6E6"
    assert list(concern.x) == [monday(n) for n in range(17, 24)]
    assert list(improvement.x) == [monday(n) for n in range(10, 17)], "7 above the average"
    assert concern.marker.symbol != improvement.marker.symbol
    assert concern.customdata[0][1] == (
        "Special cause of concern (low):<br>outside the process limits<br>7 or more weeks in a row on one "
        "side of the average"
    )
    assert concern.customdata[-1] == [
        "w/c 1 Jun 2026 (2026-W23)",
        "Special cause of concern (low):<br>7 or more weeks in a row on one side of the average",
    ]
    assert "%{customdata[1]}" in concern.hovertemplate, "hover text names the classification"


def test_common_cause_is_grey_and_the_average_solid_and_the_limits_dashed() -> None:
    fig = go.Figure(spc_view(spc.spc_data(series(GOOD * 2), None), "net_score").figure)
    assert traces(fig, "Common cause variation")[0].marker.color == "#A6A6A6"
    (average,) = traces(fig, "Average")
    limits = traces(fig, "Process limits")
    assert average.line.dash is None and [t.line.dash for t in limits] == ["dash", "dash"]
    chart = stats.xmr_chart([w["net_score"] for w in series(GOOD * 2)], "up")
    assert list(average.y) == [chart.points[0].centre] * 14
    assert list(limits[0].y) == [chart.points[0].upper] * 14


def test_a_neutral_or_improving_signal_has_its_own_icon() -> None:
    chart = stats.xmr_chart([w["net_score"] for w in series(TOUGH + GOOD)], "up")
    assert spc.variation_icon(chart) == ("spc/improvement-high.svg", "Special cause of improvement, high")
    neutral = stats.xmr_chart([w["net_score"] for w in series(TOUGH + GOOD)], "neutral")
    assert spc.variation_icon(neutral) == ("spc/neutral-high.svg", "Special cause variation, high")


@pytest.mark.parametrize("side", ["high", "low"])
@pytest.mark.parametrize("kind", ["concern", "improvement", "neutral"])
def test_every_icon_the_chart_can_name_is_drawn(kind: str, side: str) -> None:
    for name in (f"spc/{kind}-{side}.svg", "spc/common-cause.svg"):
        svg = (ASSETS / name).read_text()
        assert svg.startswith("<svg") and "<script" not in svg


def test_the_share_of_tough_shifts_is_better_down() -> None:
    view = spc_view(spc.spc_data(series(GOOD + TOUGH), None), "pct_red")
    assert view.reading.startswith("Special cause of concern: 7 weeks above average since 20 April 2026.")
    assert "On average 20% of shifts were tough; weeks from 2% to 37%" in view.reading
    assert view.icon == ("spc/concern-high.svg", "Special cause of concern, high")
    assert go.Figure(view.figure).layout.yaxis.ticksuffix == "%"


def test_a_hidden_week_is_a_gap_in_the_line_and_said_in_words() -> None:
    counts: list[tuple[int, int, int] | None] = list(GOOD * 2)
    counts[9] = None
    view = spc_view(spc.spc_data(series(counts), None), "net_score")
    (line,) = traces(view.figure, "Net score")
    assert line.y[9] is None and line.connectgaps is False
    (gap,) = traces(view.figure, "Not enough ratings to show")
    assert list(gap.x) == [monday(19)]
    assert "1 of the 14 weeks shown has not enough ratings to show: a gap in the line." in view.reading


def test_fewer_than_twelve_weeks_give_trial_limits() -> None:
    view = spc_view(spc.spc_data(series(GOOD[:5]), None), "net_score")
    assert view.reading.startswith("Common cause variation: no signal in the last 5 weeks (trial limits).")
    assert "Trial limits: only 5 weeks with enough ratings so far (12 make firm limits)" in view.reading


def test_an_action_is_a_dotted_line_and_a_marker_at_its_week() -> None:
    data = spc.spc_data(series(GOOD * 2), None, [action(11, "Breaks <b>protected</b>"), action(30)])
    fig = go.Figure(spc_view(data, "net_score").figure)
    assert [(s.x0, s.line.dash) for s in fig.layout.shapes] == [(monday(21), "dot")]
    (marker,) = traces(fig, ACTIONS_NAME)
    assert list(marker.x) == [monday(21)], "an action after the last published week is not on the chart"
    hover = marker.customdata[0]
    assert "Breaks &lt;b&gt;protected&lt;/b&gt;" in hover, "summaries are text, never markup"
    assert "In answer to: Staffing levels, Workload" in hover and "20 May 2026" in hover
    assert [a["summary"] for a in data["actions"]] == ["Breaks <b>protected</b>"]


def test_a_rebase_starts_new_limits_as_a_separate_step() -> None:
    data = spc.spc_data(series(GOOD + TOUGH), None, [action(7, rebase=True)])
    view = spc_view(data, "net_score")
    averages = traces(view.figure, "Average")
    assert [list(t.x) for t in averages] == [
        [monday(n) for n in range(10, 17)],
        [monday(n) for n in range(17, 24)],
    ]
    values = [w["net_score"] for w in series(GOOD + TOUGH)]
    chart = stats.xmr_chart(values, "up", rebase_at=[7])
    assert [t.y[0] for t in averages] == [chart.points[0].centre, chart.points[7].centre]
    assert [t.showlegend for t in averages] == [True, False], "one legend entry"
    assert view.reading.startswith("Common cause variation: no signal in the last 7 weeks (trial limits).")
    assert "The limits start again from the week of 20 April 2026" in view.reading
    assert "The limits start again from this week." in traces(view.figure, ACTIONS_NAME)[0].customdata[0]


def test_a_rebase_in_the_first_week_changes_nothing() -> None:
    data = spc.spc_data(series(GOOD + TOUGH), None, [action(0, rebase=True)])
    assert spc.rebase_indices(data) == []


def test_the_limits_come_from_the_history_not_the_range_shown() -> None:
    history = series(GOOD + TOUGH)
    data = spc.spc_data(history, history[2]["week_start"])
    view = spc_view(data, "net_score")
    (line,) = traces(view.figure, "Net score")
    assert list(line.x) == [monday(n) for n in range(12, 24)]
    assert "The average net score is +38" in view.reading, "the average of all 14 weeks"
    assert spc.chart_rows(data, "net_score")[0]["iso_week"] == "2026-W12"


def test_nothing_to_chart_is_said_plainly() -> None:
    empty = spc_view(spc.spc_data([], None), "net_score")
    assert empty.reading == "No weeks have been published yet." and empty.icon is None
    hidden = spc_view(spc.spc_data(series([None, None]), None), "pct_red")
    assert hidden.reading.startswith("None of these weeks has enough ratings to show")
    assert hidden.icon is None
    assert (
        go.Figure(hidden.figure).layout.annotations[0].text
        == "None of these weeks has enough ratings to show"
    )


def test_chart_rows_hold_each_week_with_its_lines_and_actions() -> None:
    data = spc.spc_data(series(GOOD + TOUGH), None, [action(7, rebase=True)])
    rows = spc.chart_rows(data, "net_score")
    assert len(rows) == 14 and set(rows[0]) == set(spc.CSV_COLUMNS)
    assert rows[7] == {
        "iso_week": "2026-W17",
        "week_start": "2026-04-20",
        "measure": "net_score",
        "value": 10.0,
        "average": 10.0,
        "lower_limit": -12.17,
        "upper_limit": 32.17,
        "variation": "Common cause variation",
        "rules": "",
        "trial_limits": "yes",
        "actions": "Protected breaks on every shift.",
    }
    assert spc.chart_rows(data, "unknown")[0]["measure"] == "net_score"


def test_latest_actions_come_most_recent_first() -> None:
    actions = [action(1), action(5), action(3)]
    assert [a["id"] for a in spc.latest_actions(actions)] == [5, 3, 1]
    assert [a["id"] for a in spc.latest_actions(actions, 2)] == [5, 3]


def test_dates_are_english_whatever_the_locale() -> None:
    assert spc.long_date(dt.date(2026, 3, 3)) == "3 March 2026"


def test_the_department_page_fills_its_chart_and_lists_its_actions(dash_app, seeded) -> None:  # type: ignore[no-untyped-def]
    from pulse.services.followup import record_action

    session = dash_app.extensions["pulse"].session_factory()
    record_action(
        session,
        department=session.merge(seeded.department),
        taken_on=dt.date(2026, 11, 4),
        summary="A second healthcare assistant on nights.",
        rebase=True,
        recorded_by=None,
        today=dt.date(2026, 11, 18),
    )
    session.commit()
    session.close()
    department = importlib.import_module("dashboard.pages.department")
    with dash_app.test_request_context():
        layout = department.layout(department_id=str(seeded.department.id), weeks="12")
    parts = {getattr(c, "id", None): c for c in _walk(layout)}
    data, figure, reading = (
        parts["dept-spc-data"].data,
        parts["dept-spc-graph"].figure,
        parts["dept-spc-summary"],
    )
    listed = parts["dept-actions-list"].children
    assert data["labels"] == ["2026-W44", "2026-W45", "2026-W46"] and data["shown_from"] == 0
    assert spc.rebase_indices(data) == [1]
    assert len(traces(figure, "Average")) == 2, "the chart comes with the page itself: no second trip"
    icon, words = reading.children
    assert icon.src == "/dashboard/assets/spc/common-cause.svg" and icon.alt == "Common cause variation"
    assert "The limits start again from the week of 2 November 2026" in words.children
    item = listed.children[0]
    assert item.children[0].children[0].children == "4 November 2026"
    assert item.children[1].children == "A second healthcare assistant on nights."


def _walk(component: Any) -> Any:
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            yield from _walk(child)
