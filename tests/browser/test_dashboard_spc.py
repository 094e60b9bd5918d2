"""SPC charts in a real browser: a department's chart gives its signal in words and as a variation icon, and
marks an action on its week; the organisation lists what departments did; no script or policy error, and
axe-core finds nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, expect
from sqlalchemy.orm import Session

from pulse.services.followup import record_action
from pulse.services.publication import publish_due
from tests.browser.conftest import assert_no_axe_violations
from tests.browser.test_dashboard import plotted
from tests.conftest import LONDON, FakeClock
from tests.factories import Org, add_week, make_org

FIRST_WEEK = dt.date(2026, 8, 10)  # 14 weeks to 9 November, all published by the clock's 18 November
GOOD = [(2, 3, 15), (1, 4, 15), (2, 2, 16), (3, 3, 14), (2, 4, 14), (1, 3, 16), (2, 3, 15)]
TOUGH = [(6, 6, 8), (7, 5, 8), (5, 7, 8), (6, 5, 9), (6, 7, 7), (7, 6, 7), (5, 6, 9)]
CONCERN = "Special cause of concern: 7 weeks below average since 28 September 2026."
SUMMARY = "A second healthcare assistant on nights <b>from now on</b>."


@pytest.fixture
def org(session: Session, clock: FakeClock) -> Org:
    """Seven good weeks, then seven tough ones (a special cause of concern), and an action in week 12; all
    published before the first page loads (a request publishes only a few weeks of a backlog)."""
    org = make_org(session, teams=2)
    for i, (red, amber, green) in enumerate(GOOD + TOUGH):
        add_week(session, org, FIRST_WEEK + dt.timedelta(weeks=i), {0: (red, amber, green, 10)})
    record_action(
        session,
        department=org.department,
        taken_on=dt.date(2026, 10, 28),  # a Wednesday in the week of 26 October, 2026-W44
        summary=SUMMARY,
        reason_ids=[org.tags[0].id],
        recorded_by=None,
        today=dt.date(2026, 11, 18),
    )
    publish_due(session, clock(), LONDON, dt.timedelta(hours=2), k=5)
    session.commit()
    return org


def watch(page: Page) -> list[str]:
    """Script errors, console errors and Content-Security-Policy reports, as they happen."""
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    def error(exception: Error) -> None:
        problems.append(exception.message)

    page.on("console", console)
    page.on("pageerror", error)
    return problems


def test_a_department_chart_reads_its_signal_and_marks_the_action(
    page: Page, org: Org, screenshot: Callable[[str], Path]
) -> None:
    problems = watch(page)
    page.goto(f"/dashboard/department/{org.department.id}")
    reading = page.locator("#dept-spc-summary")
    expect(reading).to_contain_text(CONCERN)
    icon = reading.get_by_role("img")
    expect(icon).to_have_attribute("alt", "Special cause of concern, low")
    expect(icon).to_have_js_property("complete", True)
    assert icon.evaluate("img => img.naturalWidth") > 0, "the icon is served from the assets"

    traces = {t["name"]: t for t in plotted(page, "dept-spc-graph")}
    assert traces["Special cause of concern"]["x"][0] == "2026-09-28"  # 2026-W40, at its Monday
    assert traces["You said, we did: a change made"]["x"] == ["2026-10-26"]
    dotted = page.evaluate(
        "() => document.querySelector('#dept-spc-graph .js-plotly-plot').layout.shapes.map(s => s.x0)"
    )
    assert dotted == ["2026-10-26"]

    item = page.locator("#dept-actions-list li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("28 October 2026")
    expect(item).to_contain_text(SUMMARY)  # text, not markup
    expect(item).to_contain_text("In answer to: Staffing levels")

    choice = page.get_by_role("group", name="Measure")
    choice.get_by_role("button", name="Share of tough shifts").click()
    expect(choice.get_by_role("button", pressed=True)).to_have_text("Share of tough shifts")
    expect(reading).to_contain_text("Special cause of concern: 7 weeks above average")
    expect(reading.get_by_role("img")).to_have_attribute("alt", "Special cause of concern, high")
    screenshot("department-spc")
    assert_no_axe_violations(page)
    assert problems == []


@pytest.mark.parametrize("viewport", ["phone"])
def test_the_organisation_lists_what_departments_did(
    page: Page, org: Org, viewport: str, screenshot: Callable[[str], Path]
) -> None:
    problems = watch(page)
    page.goto("/dashboard/?weeks=12")
    reading = page.locator("#org-spc-summary")
    expect(reading).to_contain_text(CONCERN)
    expect(reading).to_contain_text("The average net score is +38")  # from all 14 weeks, not the 12 shown
    traces = plotted(page, "org-spc-graph")
    shown = next(t for t in traces if t["name"] == "Net score")
    assert len(shown["x"]) == 12, "the 12 weeks chosen, with limits from all 14"
    assert all(t["name"] != "You said, we did: a change made" for t in traces)
    item = page.locator("#org-actions-list li")
    expect(item).to_have_count(1)
    expect(item.get_by_role("link", name="Emergency Department")).to_have_attribute(
        "href", f"/dashboard/department/{org.department.id}"
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, "nothing spills sideways at phone width"
    screenshot(f"organisation-spc-{viewport}")
    assert_no_axe_violations(page)
    assert problems == []
