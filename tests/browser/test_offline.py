"""The rating page without a connection: the service worker opens it from its cache, a tap is saved on the
phone and sent once the phone is back online, and a saved rating is counted exactly once however often it is
sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlalchemy.orm import Session

from tests.browser.conftest import TIMEOUT_MS, VIEWPORTS, assert_no_axe_violations
from tests.browser.test_rating_page import CONTROLLED, tally
from tests.factories import Org, make_org

THANKS = "Thank you. Your rating has been counted."
QUEUED = "You're offline. Your rating is saved on this phone and will be sent when you're back online."
SENT = "Your saved rating has been sent and counted."
RATINGS = "**/api/v1/ratings"
QUEUE = "JSON.parse(localStorage.getItem('pulse.queue') || '[]')"


@pytest.fixture
def org(session: Session) -> Org:
    return make_org(session)


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A phone with service workers allowed (the default) and its own storage."""
    context = browser.new_context(
        base_url=live_server, locale="en-GB", timezone_id="Europe/London", **VIEWPORTS["phone"]
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def open_with_worker(page: Page, join_code: str) -> None:
    page.goto(f"/r/{join_code}")
    expect(page.get_by_role("button", name="Good shift")).to_be_visible()
    assert page.evaluate(CONTROLLED) is True


def sent_bodies(page: Page) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda request: (
            bodies.append(request.post_data_json)
            if request.method == "POST" and request.url.endswith("/api/v1/ratings")
            else None
        ),
    )
    return bodies


def test_offline_the_page_opens_saves_the_tap_and_sends_it_once_back_online(
    context: BrowserContext, page: Page, org: Org, session: Session
) -> None:
    open_with_worker(page, org.team.join_code)
    context.set_offline(True)
    page.reload()  # only the service worker can answer now
    expect(page.get_by_role("heading", name="How was your shift?")).to_be_visible()
    expect(page.get_by_text(org.team.name)).to_be_visible()
    expect(page.get_by_role("button", name="Tough shift")).to_have_css("min-height", "72px")  # styled
    bodies = sent_bodies(page)

    page.get_by_role("button", name="OK shift").click()
    expect(page.get_by_role("status").filter(has_text=QUEUED)).to_be_visible()
    expect(page.get_by_text(THANKS)).to_be_hidden()
    expect(page.get_by_role("group", name="Would you like to say why? (optional)")).to_be_hidden()
    expect(page.locator("#done")).to_be_focused()
    queued = page.evaluate(QUEUE)
    assert len(queued) == 1
    assert queued[0]["body"]["colour"] == "amber"
    assert queued[0]["body"]["join_code"] == org.team.join_code
    assert len(queued[0]["body"]["device_secret"]) == 43
    assert queued[0]["tapped_at"] > 0
    assert bodies == [], "nothing goes out while offline"
    assert tally(session, org) == (0, 0, 0, 0)
    assert_no_axe_violations(page)

    context.set_offline(False)  # the page hears "online" and sends what it saved
    expect(page.get_by_text(SENT)).to_be_visible()
    assert page.evaluate(QUEUE) == []
    assert tally(session, org) == (0, 1, 0, 1)
    assert len(bodies) == 1
    age = bodies[0]["age_seconds"]
    assert isinstance(age, int) and 0 <= age <= 60
    assert {k: v for k, v in bodies[0].items() if k != "age_seconds"} == queued[0]["body"]
    assert_no_axe_violations(page)

    # The answer never reached the phone: the same saved rating is sent again. It is counted once.
    page.evaluate(f"localStorage.setItem('pulse.queue', {json.dumps(json.dumps(queued))})")
    page.reload()
    expect(page.get_by_text(SENT)).to_be_visible()
    assert page.evaluate(QUEUE) == []
    assert len(bodies) == 2 and bodies[1]["idempotency_key"] == bodies[0]["idempotency_key"]
    assert tally(session, org) == (0, 1, 0, 1)
    page.reload()
    expect(page.get_by_role("button", name="Good shift")).to_be_enabled()
    assert len(bodies) == 2
    assert tally(session, org) == (0, 1, 0, 1)


def test_privacy_page_opens_offline_once_visited(context: BrowserContext, page: Page, org: Org) -> None:
    open_with_worker(page, org.team.join_code)
    page.get_by_role("link", name="How your rating is protected").click()
    expect(page.get_by_role("heading", name="How your rating is protected")).to_be_visible()
    context.set_offline(True)
    page.go_back()
    expect(page.get_by_role("heading", name="How was your shift?")).to_be_visible()
    page.get_by_role("link", name="How your rating is protected").click()
    expect(page.get_by_role("heading", name="How your rating is protected")).to_be_visible()


def test_no_answer_after_the_retry_saves_the_tap(page: Page, org: Org, session: Session) -> None:
    attempts: list[str] = []

    def drop(route: Route) -> None:
        attempts.append(route.request.post_data_json["idempotency_key"])
        route.abort("internetdisconnected")

    page.route(RATINGS, drop)
    page.goto(f"/r/{org.team.join_code}")
    page.get_by_role("button", name="Good shift").click()
    expect(page.get_by_text(QUEUED)).to_be_visible()
    assert len(attempts) == 2 and attempts[0] == attempts[1]
    [saved] = page.evaluate(QUEUE)
    assert saved["body"]["idempotency_key"] == attempts[0], "the saved rating keeps its key"

    page.unroute(RATINGS)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_text(SENT)).to_be_visible()
    assert tally(session, org) == (0, 0, 1, 1)


def test_a_saved_rating_is_never_sent_twice_at_once(page: Page, org: Org, session: Session) -> None:
    held: list[Route] = []
    page.route(RATINGS, lambda route: held.append(route))
    page.goto(f"/r/{org.team.join_code}")
    page.context.set_offline(True)
    page.get_by_role("button", name="Tough shift").click()
    expect(page.get_by_text(QUEUED)).to_be_visible()
    with page.expect_request(RATINGS):
        page.context.set_offline(False)  # the first run starts and waits for its answer
    page.evaluate(
        """() => {
            for (let i = 0; i < 5; i++) window.dispatchEvent(new Event('online'));
            document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )
    assert page.evaluate("1 + 1") == 2  # a round trip: any second run has sent its request by now
    assert len(held) == 1
    held[0].continue_()
    expect(page.get_by_text(SENT)).to_be_visible()
    assert len(held) == 1
    assert tally(session, org) == (1, 0, 0, 1)


def test_saved_ratings_are_kept_on_server_errors_and_dropped_when_refused_or_too_old(
    page: Page, org: Org, session: Session
) -> None:
    answers: list[tuple[int, str]] = [
        (503, '{"status": 503}'),
        (
            409,
            '{"type": "urn:pulse:problem:shift-closed", "status": 409, '
            '"detail": "That shift has closed for rating."}',
        ),
    ]
    bodies = sent_bodies(page)

    def answer(route: Route) -> None:
        status, body = answers.pop(0)
        route.fulfill(status=status, content_type="application/problem+json", body=body)

    page.route(RATINGS, answer)
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_role("button", name="Good shift")).to_be_visible()
    now = page.evaluate("Date.now()")
    item = {
        "body": {
            "join_code": org.team.join_code,
            "colour": "green",
            "device_secret": "d" * 43,
            "idempotency_key": "saved-rating-1",
        },
        "tapped_at": now - 3_600_000,
    }
    too_old = {
        **item,
        "body": {**item["body"], "idempotency_key": "too-old-1"},
        "tapped_at": now - 86_401_000,
    }
    page.evaluate(f"localStorage.setItem('pulse.queue', {json.dumps(json.dumps([too_old, item]))})")

    with page.expect_response(RATINGS):
        page.reload()  # the 503: kept for later; the day-old one is dropped unsent
    [kept] = page.evaluate(QUEUE)
    assert kept["body"]["idempotency_key"] == "saved-rating-1"
    assert [b["idempotency_key"] for b in bodies] == ["saved-rating-1"]
    assert 3599 <= bodies[0]["age_seconds"] <= 3700

    page.reload()  # refused (4xx): dropped, and the page says why
    refused = "Your saved rating could not be counted. That shift has closed for rating."
    expect(page.get_by_text(refused)).to_be_visible()
    assert page.evaluate(QUEUE) == []
    assert len(bodies) == 2
    assert tally(session, org) == (0, 0, 0, 0)
