"""Unit names are text wherever Plotly draws them: a name written as a link shows as those characters, never
as a link (Plotly reads a subset of HTML in titles, labels, legends and hover text). Issue 14, point 4."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy.orm import Session

from tests.browser.test_dashboard import wait_for_charts
from tests.dashboard.conftest import WEEKS
from tests.factories import Org, add_week, make_org

LINK = '<a href="https://evil.example/phish">Minors (click for details)</a>'
BOLD = "<b>Resus</b> & <i>friends</i>"


@pytest.fixture
def org(session: Session) -> Org:
    org = make_org(session, teams=3)
    org.department.name = '<a href="https://evil.example/dept">ED</a>'
    org.teams[0].name, org.teams[1].name = LINK, BOLD
    org.bands["Early"].name = '<a href="https://e.example">Early</a>'  # a band name has 40 characters
    org.tags[0].label = '<a href="https://evil.example/tag">Staffing</a>'
    session.commit()
    for week in WEEKS:
        add_week(session, org, week, {0: (2, 3, 5, 10), 1: (1, 5, 9, 15), 2: (3, 3, 6, 12)})
    return org


def links_in_charts(page: Page) -> list[str]:
    """Every link Plotly drew inside a chart (its mode bar's buttons are outside the SVG)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot svg a')]
              .map(a => a.getAttribute('href') || a.getAttribute('xlink:href'))"""
    )


def chart_text(page: Page) -> str:
    return page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot svg')].map(s => s.textContent).join('|')"
    )


def heatmap_names(page: Page) -> list[str]:
    """The team names down the side of the teams-by-week heatmap, without the spaces where they wrap."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot .ytick text')]
              .map(t => t.textContent.replace(/\\s/g, ''))"""
    )


def test_names_written_as_html_show_as_text_on_the_department_page(
    page: Page, org: Org, tmp_path: Path
) -> None:
    page.goto(f"/dashboard/department/{org.department.id}?weeks=all")
    wait_for_charts(page, "department")

    assert links_in_charts(page) == []
    text = chart_text(page)
    assert '<a href="https://evil.example/dept">ED</a>: share of ratings by week' in text
    names = heatmap_names(page)
    assert BOLD.replace(" ", "") in names, "a name shows as typed, character for character"
    long_name = [name for name in names if name.endswith("\u2026")]
    assert len(long_name) == 1 and LINK.replace(" ", "").startswith(long_name[0][:-1]), (
        "a long name shows its first lines as typed, then an ellipsis"
    )
    assert long_name[0].startswith('<ahref="https://'), names

    with page.expect_download() as download:
        page.locator("#dept-teams-download-button").click()
    saved = tmp_path / "teams.csv"
    download.value.save_as(saved)
    teams = {row["team"] for row in csv.DictReader(io.StringIO(saved.read_text(), newline=""))}
    assert LINK in teams
