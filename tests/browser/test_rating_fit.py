"""The rating and kiosk pages fit a 320 px wide screen and 200% text (WCAG 2.2 reflow and resize text): no
sideways scrolling, nothing cut off, the three answers in view and at least 44 px tall, and axe-core finds
nothing, in every state a person sees."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from pulse.services import structure
from tests.browser.conftest import assert_no_axe_violations
from tests.factories import Org, enable_kiosk, make_org

# Width in CSS px, and the root font size: every length on these pages is in rem, so 200% doubles the text
# as a browser's text-size setting does.
FITS = {
    "320px": (320, 100),
    "200% text": (360, 200),
    "320px and 200% text": (320, 200),
}
COLOURS = ("Good shift", "OK shift", "Tough shift")

# Anything in <main> that is shown and pokes out of the window, or whose content is clipped.
OVERFLOW = """
() => {
  const width = window.innerWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > width) {
    problems.push(`page is ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
  }
  for (const el of document.querySelectorAll('main *')) {
    const box = el.getBoundingClientRect();
    if (!el.getClientRects().length || box.width === 0) continue;
    const text = (el.textContent || '').trim().slice(0, 30);
    const name = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${text}"`;
    if (box.left < -0.5 || box.right > width + 0.5) {
      problems.push(`${name} spans ${box.left}..${box.right}`);
    }
    const clips = getComputedStyle(el).overflowX !== 'visible';
    if (clips && el.scrollWidth > el.clientWidth + 1) problems.push(`${name} is clipped`);
  }
  return problems;
}
"""


@pytest.fixture(params=list(FITS))
def fit(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def viewport() -> str:
    return "phone"


@pytest.fixture
def org(session: Session) -> Org:
    org = make_org(session)
    # Long words and a long description, as a real organisation may have.
    structure.add_support_link(
        session,
        "Employee Assistance Programme",
        "https://wellbeing.example.org/employee-assistance-programme/confidential-counselling",
        "Free and confidential counselling, 24 hours a day, 365 days a year.",
    )
    structure.add_support_link(session, "Samaritans", "tel:116123", "Call 116 123 free, any time.")
    session.commit()
    return org


def set_fit(page: Page, fit: str) -> None:
    width, text = FITS[fit]
    page.set_viewport_size({"width": width, "height": 640})
    # Before the page's own scripts run, and again on every page the test opens.
    page.add_init_script(
        f"document.addEventListener('DOMContentLoaded', () => "
        f"document.documentElement.style.fontSize = '{text}%')"
    )


def assert_fits(page: Page) -> None:
    problems = page.evaluate(OVERFLOW)
    assert problems == [], f"{page.url} does not fit: {problems}"
    assert_no_axe_violations(page)


def assert_buttons_fit(page: Page) -> None:
    width = page.viewport_size["width"]
    for name in COLOURS:
        button = page.get_by_role("button", name=name)
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44, f"{name}: {box}"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{name}: {box}"


def test_the_rating_page_fits_in_every_state(
    page: Page, org: Org, fit: str, screenshot: Callable[[str], Path]
) -> None:
    set_fit(page, fit)
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_role("heading", name="How was your shift?")).to_be_visible()
    assert (
        page.evaluate("getComputedStyle(document.documentElement).fontSize")
        == f"{16 * FITS[fit][1] // 100}px"
    )
    assert_buttons_fit(page)
    assert_fits(page)
    screenshot(f"rating {fit}")

    page.get_by_role("button", name="Tough shift").click()
    expect(page.get_by_role("heading", name="Support if you need it")).to_be_visible()
    reasons = page.get_by_role("group", name="Would you like to say why? (optional)")
    expect(reasons).to_be_visible()
    for label in reasons.locator("label").all():
        box = label.bounding_box()
        assert box is not None and box["height"] >= 44
    targets = [page.get_by_role("button", name=name) for name in ("Send reasons", "Skip")]
    targets += page.locator("#support a").all()
    for target in targets:
        box = target.bounding_box()
        assert box is not None and box["height"] >= 44, f"{target}: {box}"
    assert_fits(page)
    screenshot(f"thanks {fit}")

    page.get_by_role("link", name="How your rating is protected").click()
    expect(page.get_by_role("heading", name="How your rating is protected")).to_be_visible()
    assert_fits(page)


def test_the_kiosk_page_fits(
    page: Page, session: Session, fit: str, screenshot: Callable[[str], Path]
) -> None:
    org = make_org(session)
    token = enable_kiosk(session, org.team)
    set_fit(page, fit)
    page.goto(f"/k/{token}")
    expect(page.get_by_role("heading", name="How was your shift?")).to_be_visible()
    assert_buttons_fit(page)
    assert_fits(page)
    screenshot(f"kiosk {fit}")
