"""The dashboard pages in a real browser, on a seeded database: charts render, hidden teams look hidden (not
zero), deep links restore the range, search and downloads work, and axe-core finds nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_no_axe_violations
from tests.dashboard.conftest import WEEKS
from tests.factories import Org, add_week, make_org


@pytest.fixture
def org(session) -> Org:  # type: ignore[no-untyped-def]
    """Three closed weeks; team 1 has 3 people in the first (hidden), team 3 never rates."""
    org = make_org(session, teams=3)
    add_week(session, org, WEEKS[0], {0: (1, 1, 1, 3), 1: (2, 4, 8, 14)})
    add_week(session, org, WEEKS[1], {0: (2, 3, 5, 10), 1: (1, 5, 9, 15)})
    add_week(session, org, WEEKS[2], {0: (4, 4, 4, 12), 1: (3, 3, 9, 15)})
    return org


CHARTS = {"organisation": 6, "department": 4, "team": 1}  # with the SPC chart on both


def wait_for_charts(page: Page, kind: str) -> None:
    """Wait until the page's charts are all drawn and every reading below them is written."""
    count = CHARTS[kind]
    # Plotly (3.5 MB) loads after the page; allow a loaded machine more than the default five seconds.
    expect(page.locator(".js-plotly-plot .main-svg >> nth=0")).to_be_attached(timeout=30_000)
    expect(page.locator(".js-plotly-plot")).to_have_count(count)
    summaries = page.locator("figcaption.summary")
    expect(summaries).to_have_count(count)
    for i in range(count):
        expect(summaries.nth(i)).not_to_be_empty()


def plotted(page: Page, graph_id: str) -> list[dict]:
    """The traces Plotly drew in a chart, as the browser holds them, once it has drawn them.

    Plotly loads after the page, so a chart's text can be on screen before its plot exists: wait for the plot.
    """
    drawn = page.wait_for_function(
        """id => {
            const outer = document.getElementById(id);
            const plot = outer && (outer.classList.contains('js-plotly-plot')
                ? outer : outer.querySelector('.js-plotly-plot'));
            if (!plot || !plot.data || !plot.data.length) return null;
            return plot.data.map(t => ({name: t.name, type: t.type, x: t.x, y: t.y, z: t.z}));
        }""",
        arg=graph_id,
        timeout=30_000,
    )
    return drawn.json_value()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_organisation_page(page: Page, org: Org, viewport: str, screenshot: Callable[[str], Path]) -> None:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto("/dashboard/")
    wait_for_charts(page, "organisation")
    assert hosts == {urlsplit(page.url).netloc}, "no fonts, scripts or trackers from anywhere else"
    expect(page.locator("#org-trend-summary")).to_contain_text("2026-W46")
    bars = [t for t in plotted(page, "org-trend-graph") if t["type"] == "bar"]
    assert bars[0]["x"] == ["2026-10-26", "2026-11-02", "2026-11-09"], "each week at its Monday"
    if viewport == "phone":
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, "nothing spills sideways at phone width"
    screenshot(f"organisation-{viewport}")
    assert_no_axe_violations(page)


def test_a_hidden_team_week_is_a_gap_not_a_zero(
    page: Page, org: Org, screenshot: Callable[[str], Path]
) -> None:
    page.goto(f"/dashboard/team/{org.teams[0].id}?weeks=12")
    wait_for_charts(page, "team")
    expect(page.locator(".notice")).to_contain_text("not shown separately, to protect anonymity")
    traces = plotted(page, "team-trend-graph")
    green = next(t for t in traces if t["name"] == "Good shift")
    assert green["y"][0] is None and green["y"][1] is not None
    gap = next(t for t in traces if t["name"] == "Not enough ratings to show")
    assert gap["x"] == ["2026-10-26"]
    screenshot("team-hidden-week")
    assert_no_axe_violations(page)


def test_department_heatmap_leaves_hidden_cells_blank(page: Page, org: Org) -> None:
    page.goto(f"/dashboard/department/{org.department.id}")
    wait_for_charts(page, "department")
    heatmap = next(t for t in plotted(page, "dept-teams-graph") if t["type"] == "heatmap")
    assert heatmap["z"][0][0] is None, "Team 1's first week (3 people): blank"
    assert heatmap["z"][1][0] is None, (
        "Team 2's first week: blank too, or the department would give Team 1 away"
    )
    assert heatmap["z"][0][1] is not None and heatmap["z"][1][1] is not None
    assert_no_axe_violations(page)


def test_a_deep_link_restores_the_range(page: Page, org: Org) -> None:
    page.goto(f"/dashboard/department/{org.department.id}?weeks=all")
    wait_for_charts(page, "department")
    weeks = page.get_by_role("navigation", name="Weeks shown")
    expect(weeks.locator("[aria-current=page]")).to_have_text("All weeks")
    weeks.get_by_role("link", name="12 weeks").click()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?weeks=12")
    expect(weeks.locator("[aria-current=page]")).to_have_text("12 weeks")
    wait_for_charts(page, "department")


def test_search_takes_you_to_a_team(page: Page, org: Org) -> None:
    page.goto("/dashboard/")
    page.get_by_label("Find a department or team").fill("Team 2")
    page.get_by_role("button", name="Go").click()
    expect(page).to_have_url(f"{page.url.split('/dashboard/')[0]}/dashboard/team/{org.teams[1].id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team 2")


def test_chart_data_downloads_as_csv(page: Page, org: Org, tmp_path: Path) -> None:
    page.goto("/dashboard/")
    wait_for_charts(page, "organisation")
    with page.expect_download() as download:
        page.locator("#org-trend-download-button").click()
    saved = tmp_path / "trend.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("iso_week,week_start,red,amber,green")
    assert len(lines) == 4


def test_keyboard_reaches_the_skip_link_first(page: Page, org: Org) -> None:
    page.goto("/dashboard/")
    wait_for_charts(page, "organisation")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to the figures")
