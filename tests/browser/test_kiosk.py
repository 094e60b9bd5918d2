"""The kiosk page on a shared ward tablet: each tap counts as one person, the page thanks them and resets for
the next, shows the wait between people (which the server enforces too), and stops at the shift's cap.

The page's own timers run on Playwright's fake clock (page.clock), so no test waits in real time; the
server's cooldown runs on the FakeClock, advanced by hand.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from pulse.services import structure
from pulse.services.rating.kiosk import disable_kiosk
from tests.browser.conftest import assert_no_axe_violations
from tests.browser.test_rating_page import tally
from tests.conftest import FakeClock
from tests.factories import Org, enable_kiosk, make_org

THANKS = "Thank you. Your rating has been counted."
NOTE = "This is a shared tablet. Each tap counts as one person. Your rating is anonymous."
OFFLINE = "Not sent: this tablet is offline. Please try again in a moment."
SWITCHED_OFF = "This tablet's link has been switched off. Ask your manager."
COOLDOWN = 10  # the live server's default kiosk_cooldown_seconds
RESET = 5  # and kiosk_reset_seconds
KIOSK_RATINGS = "/api/v1/kiosk-ratings"
COLOURS = ("Good shift", "OK shift", "Tough shift")


@pytest.fixture
def viewport() -> str:
    return "phone"


def open_kiosk(page: Page, session: Session, *, headcount: int = 20) -> tuple[Org, str]:
    org = make_org(session, headcount=headcount)
    token = enable_kiosk(session, org.team)
    page.clock.install()
    page.goto(f"/k/{token}")
    expect(page.get_by_role("button", name="Good shift")).to_be_enabled()
    # From here the page's time moves only when the test moves it.
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 2)  # seconds
    return org, token


def check_axe(page: Page) -> None:
    """axe-core waits on its own timers: let the page's time flow while it runs, then hold it again."""
    page.clock.resume()
    assert_no_axe_violations(page)
    # In seconds; far enough ahead that it is still the future when the call arrives on a busy machine.
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 2)


def buttons(page: Page) -> list:  # type: ignore[type-arg]
    return [page.get_by_role("button", name=name) for name in COLOURS]


def expect_all(page: Page, enabled: bool) -> None:
    for button in buttons(page):
        (expect(button).to_be_enabled if enabled else expect(button).to_be_disabled)()


def next_person(page: Page, clock: FakeClock, seconds: int = COOLDOWN) -> None:
    """Let time pass on both clocks, the page's and the server's (by default, the whole cooldown)."""
    clock.advance(seconds=seconds)
    page.clock.run_for(seconds * 1000)


def test_a_tap_thanks_then_resets_for_the_next_person_after_the_wait(
    page: Page, session: Session, clock: FakeClock, screenshot: Callable[[str], Path]
) -> None:
    org, token = open_kiosk(page, session)
    expect(page.get_by_role("heading", name="How was your shift?")).to_be_visible()
    expect(page.get_by_text(org.team.name, exact=True)).to_be_visible()
    expect(page.get_by_text(NOTE)).to_be_visible()
    privacy = page.get_by_role("link", name="How your rating is protected")
    expect(privacy).to_have_attribute("href", f"/r/{org.team.join_code}/privacy")
    assert page.evaluate("localStorage.length") == 0, "no device secret on a shared tablet"
    check_axe(page)
    screenshot("kiosk")

    page.get_by_role("button", name="Good shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    expect(page.locator("#done")).to_be_focused()
    assert tally(session, org) == (0, 0, 1, 1)
    assert page.evaluate("localStorage.length") == 0

    next_person(page, clock, RESET)
    expect(page.get_by_text(THANKS)).to_be_hidden()
    expect(page.get_by_role("heading", name="How was your shift?")).to_be_focused()
    expect_all(page, enabled=False)
    expect(page.get_by_text("The next person can rate in 5 seconds.")).to_be_visible()
    screenshot("kiosk-wait")

    # The server refuses a tap in the wait too, whatever the page shows.
    answer = page.request.post(
        KIOSK_RATINGS,
        data={"kiosk_token": token, "colour": "red", "idempotency_key": secrets.token_hex(16)},
    )
    assert answer.status == 409
    problem = answer.json()
    assert problem["type"] == "urn:pulse:problem:kiosk-cooldown"
    assert problem["retry_after"] == COOLDOWN - RESET
    assert tally(session, org) == (0, 0, 1, 1)

    next_person(page, clock, 4)
    expect(page.get_by_text("The next person can rate in 1 second.")).to_be_visible()
    check_axe(page)  # the wait (it may end while axe-core runs)
    next_person(page, clock, 1)
    expect_all(page, enabled=True)
    expect(page.get_by_text("The next person can rate in")).to_have_count(0)
    page.get_by_role("button", name="OK shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    assert tally(session, org) == (0, 1, 1, 2), "each tap counts as one person"


def test_a_tap_the_server_finds_too_soon_waits_as_told(
    page: Page, session: Session, clock: FakeClock
) -> None:
    org, token = open_kiosk(page, session)
    # Someone tapped a moment ago (another browser window on this tablet, say): the page does not know.
    first = page.request.post(
        KIOSK_RATINGS,
        data={"kiosk_token": token, "colour": "green", "idempotency_key": secrets.token_hex(16)},
    )
    assert first.status == 201 and first.json()["next_tap_in"] == COOLDOWN
    clock.advance(seconds=4)

    page.get_by_role("button", name="Tough shift").click()
    expect(page.get_by_role("status")).to_have_text("Please wait 6 seconds before the next rating.")
    expect_all(page, enabled=False)
    expect(page.get_by_text("The next person can rate in 6 seconds.")).to_be_visible()
    assert tally(session, org) == (0, 0, 1, 1)

    next_person(page, clock, 6)
    expect_all(page, enabled=True)
    expect(page.get_by_role("status")).to_have_text("")
    page.get_by_role("button", name="Tough shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    assert tally(session, org) == (1, 0, 1, 2)


def test_the_cap_stops_the_tablet_for_the_shift(page: Page, session: Session, clock: FakeClock) -> None:
    org, _ = open_kiosk(page, session, headcount=2)
    for _ in range(2):
        page.get_by_role("button", name="Good shift").click()
        expect(page.get_by_text(THANKS)).to_be_visible()
        next_person(page, clock)
        expect_all(page, enabled=True)
    assert tally(session, org) == (0, 0, 2, 2)

    page.get_by_role("button", name="Good shift").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("This tablet has taken 2 ratings for the Early shift")
    expect(status).to_contain_text("please use your own phone")
    expect_all(page, enabled=False)
    next_person(page, clock, 600)
    expect_all(page, enabled=False)
    assert tally(session, org) == (0, 0, 2, 2)
    check_axe(page)


def test_the_shared_screen_looks_the_same_whatever_the_last_person_tapped(
    page: Page, session: Session, clock: FakeClock, screenshot: Callable[[str], Path]
) -> None:
    structure.add_support_link(session, "Staff wellbeing service", "https://wellbeing.example.org/")
    structure.add_support_link(session, "Samaritans: call 116 123", "tel:116123", "Free, any time.")
    session.commit()
    open_kiosk(page, session)
    # Where to find support is on the screen all the time, for everyone: never only after a tough rating.
    support = page.locator("#support")
    expect(support.get_by_role("heading", name="Support if you need it")).to_be_visible()
    expect(support).to_contain_text("Staff wellbeing service: wellbeing.example.org")
    expect(support.get_by_text("Samaritans: call 116 123", exact=True)).to_be_visible()
    expect(support).not_to_contain_text("116123")
    # Not links: a support site left open on a shared tablet would tell the next person about a tap.
    expect(page.get_by_role("link", name="Staff wellbeing service")).to_have_count(0)
    before = page.locator("main").inner_text()

    seen = {}
    for colour in COLOURS:
        page.get_by_role("button", name=colour).click()
        expect(page.get_by_text(THANKS)).to_be_visible()
        seen[colour] = (page.locator("main").inner_text(), page.locator("main").screenshot())
        next_person(page, clock)
        expect_all(page, enabled=True)
        assert page.locator("main").inner_text() == before, "reset: as it was before anyone tapped"
    assert seen["Tough shift"][0] == seen["Good shift"][0] == seen["OK shift"][0]
    assert seen["Tough shift"][1] == seen["Good shift"][1], "not a pixel tells a tough rating from a good one"
    check_axe(page)


def test_a_switched_off_tablet_and_an_offline_one_say_so(page: Page, session: Session) -> None:
    org, _ = open_kiosk(page, session)
    page.context.set_offline(True)
    page.get_by_role("button", name="OK shift").click()
    expect(page.get_by_role("status")).to_have_text(OFFLINE)
    expect_all(page, enabled=True)
    page.context.set_offline(False)

    disable_kiosk(session, org.team)
    session.commit()
    page.get_by_role("button", name="OK shift").click()
    expect(page.get_by_role("status")).to_have_text(SWITCHED_OFF)
    expect_all(page, enabled=False)
    assert tally(session, org) == (0, 0, 0, 0)


def test_an_unknown_kiosk_link_gets_the_friendly_page(page: Page) -> None:
    response = page.goto("/k/" + "x" * 22)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_axe_violations(page)
