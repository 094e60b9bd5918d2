"""The staff rating page in a real phone-sized browser: one tap counts exactly one rating, a second tap in the
same shift is refused kindly, axe-core finds nothing, and the first load stays under 100 KB."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import TeamWeekTally
from tests.browser.conftest import assert_no_axe_violations
from tests.factories import Org, make_org

THANKS = "Thank you. Your rating has been counted."
ALREADY = "You've already rated this shift. Thank you."
SUPPORT = "If you need support, talk to your manager or your organisation's wellbeing service."
PAGE_WEIGHT_LIMIT = 100_000


@pytest.fixture
def viewport() -> str:
    return "phone"


@pytest.fixture
def org(session: Session) -> Org:
    return make_org(session)


def tally(session: Session, org: Org) -> tuple[int, int, int, int]:
    """The team's counts this week as (red, amber, green, contributors); zeros before the first rating."""
    session.rollback()  # end the read snapshot, so the live server's writes are seen
    row = session.scalar(select(TeamWeekTally).where(TeamWeekTally.team_id == org.team.id))
    return (row.red, row.amber, row.green, row.contributors) if row else (0, 0, 0, 0)


def test_one_tap_counts_once_and_a_second_is_refused_kindly(
    page: Page, org: Org, session: Session, screenshot: Callable[[str], Path]
) -> None:
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_text(org.team.name)).to_be_visible()
    expect(page.get_by_role("heading", name="How was your shift?")).to_be_visible()
    good = page.get_by_role("button", name="Good shift")
    box = good.bounding_box()
    assert box is not None and box["height"] >= 44
    assert box["width"] >= 0.8 * page.viewport_size["width"], "full width on a phone"
    assert tally(session, org) == (0, 0, 0, 0)
    screenshot("rating-page")

    good.click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    expect(page.get_by_text(SUPPORT)).to_be_hidden()
    assert tally(session, org) == (0, 0, 1, 1)
    secret = page.evaluate("localStorage.getItem('pulse.device-secret')")
    assert len(secret) == 43
    screenshot("thanks")

    page.reload()
    page.get_by_role("button", name="Tough shift").click()
    expect(page.get_by_text(ALREADY)).to_be_visible()
    expect(page.get_by_text(SUPPORT)).to_be_hidden()
    assert tally(session, org) == (0, 0, 1, 1)
    assert page.evaluate("localStorage.getItem('pulse.device-secret')") == secret


def test_a_tough_shift_gets_a_supportive_line(page: Page, org: Org, session: Session) -> None:
    page.goto(f"/r/{org.team.join_code}")
    page.get_by_role("button", name="Tough shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    expect(page.get_by_text(SUPPORT)).to_be_visible()
    assert tally(session, org) == (1, 0, 0, 1)


def test_a_lost_answer_is_retried_once_with_the_same_key(page: Page, org: Org, session: Session) -> None:
    keys: list[str] = []

    def drop_first_answer(route) -> None:  # type: ignore[no-untyped-def]
        keys.append(route.request.post_data_json["idempotency_key"])
        if len(keys) == 1:
            route.fetch()  # the server counts it, but the phone never hears back
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/ratings", drop_first_answer)
    page.goto(f"/r/{org.team.join_code}")
    page.get_by_role("button", name="OK shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    assert len(keys) == 2 and keys[0] == keys[1]
    assert tally(session, org) == (0, 1, 0, 1)


def test_when_sending_fails_twice_the_page_says_so(page: Page, org: Org, session: Session) -> None:
    attempts: list[str] = []
    page.route("**/api/v1/ratings", lambda route: (attempts.append("x"), route.abort("failed")))
    page.goto(f"/r/{org.team.join_code}")
    page.get_by_role("button", name="Good shift").click()
    expect(page.get_by_role("status")).to_contain_text("could not be sent")
    assert len(attempts) == 2
    expect(page.get_by_role("button", name="Good shift")).to_be_enabled()
    assert tally(session, org) == (0, 0, 0, 0)


def test_pages_pass_axe_and_load_nothing_from_elsewhere(page: Page, org: Org) -> None:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_role("button", name="Good shift")).to_be_visible()
    assert_no_axe_violations(page)
    page.get_by_role("link", name="How your rating is protected").click()
    expect(page.get_by_role("heading", name="How your rating is protected")).to_be_visible()
    expect(page.get_by_text("If fewer than 5 people rated")).to_be_visible()
    assert_no_axe_violations(page)
    page.goto(f"/r/{org.team.join_code}/poster")
    expect(page.locator(".poster-qr svg")).to_be_visible()
    assert_no_axe_violations(page)
    page.goto("/r/nosuchcode123")
    assert_no_axe_violations(page)
    assert hosts == {urlsplit(page.url).netloc}


def test_the_first_load_weighs_under_100_kb(page: Page, org: Org) -> None:
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"/r/{org.team.join_code}", wait_until="load")
    kinds = {urlsplit(r.url).path.rsplit("/", 1)[-1] for r in responses}
    assert {"rate.css", "rate.js"} <= kinds
    total = sum(len(r.body()) for r in responses)
    assert total < PAGE_WEIGHT_LIMIT, f"first load is {total} bytes"
