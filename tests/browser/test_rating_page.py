"""The staff rating page in a real phone-sized browser: one tap counts exactly one rating, a second tap in the
same shift is refused kindly, the optional reasons step adds reasons once (or is skipped), support links
follow a tough shift only, axe-core finds nothing in any state, and the first load stays under 100 KB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import TeamWeekReasonTally, TeamWeekTally
from pulse.services import structure
from tests.browser.conftest import assert_no_axe_violations
from tests.conftest import FakeClock
from tests.factories import Org, make_org, mix_for

THANKS = "Thank you. Your rating has been counted."
ALREADY = "You've already rated this shift. Thank you."
SUPPORT = "If you need support, talk to your manager or your organisation's wellbeing service."
WHY = "Would you like to say why? (optional)"
REASONS_ADDED = "Thanks, your reasons have been added."
PAGE_WEIGHT_LIMIT = 100_000
RATINGS = "**/api/v1/ratings"
REASONS = "**/api/v1/ratings/reasons"
PROBLEM_JSON = "application/problem+json"
# Resolves once this page is controlled by the service worker: installed (with the page and its files cached),
# activated and claimed. A function, not an expression: the page's Content-Security-Policy forbids eval.
CONTROLLED = """
async () => {
  const controlled = (async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise(resolve =>
        navigator.serviceWorker.addEventListener('controllerchange', resolve, {once: true}));
    }
    return true;
  })();
  const late = new Promise((_, reject) =>
    setTimeout(() => reject(new Error('no service worker took over the page')), 10000));
  return Promise.race([controlled, late]);
}
"""


@pytest.fixture
def viewport() -> str:
    return "phone"


@pytest.fixture
def org(session: Session) -> Org:
    return make_org(session)


def tally(session: Session, org: Org) -> tuple[int, int, int, int]:
    """The team's counts this week as (red, amber, green, contributors); zeros before the first rating."""
    mix_for(session)  # the live server's ratings, mixed into the tallies
    row = session.scalar(select(TeamWeekTally).where(TeamWeekTally.team_id == org.team.id))
    return (row.red, row.amber, row.green, row.contributors) if row else (0, 0, 0, 0)


def reason_tally(session: Session, org: Org) -> dict[str, int]:
    """The team's reason counts this week by label; a tag nobody named has none."""
    mix_for(session)
    rows = session.scalars(select(TeamWeekReasonTally).where(TeamWeekReasonTally.team_id == org.team.id))
    labels = {tag.id: tag.label for tag in org.tags}
    return {labels[row.tag_id]: row.ratings for row in rows if row.ratings}


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


def test_the_page_says_which_shift_was_counted_and_knows_it_again_before_a_tap(
    page: Page, org: Org, session: Session, clock: FakeClock, screenshot: Callable[[str], Path]
) -> None:
    page.clock.install(time=clock())  # the phone's clock agrees with the server's
    page.goto(f"/r/{org.team.join_code}")
    page.get_by_role("button", name="OK shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    expect(page.get_by_text("It counts for the Early shift of Wednesday 18 November.")).to_be_visible()
    stored = page.evaluate("localStorage.getItem('pulse.rated')")
    assert "amber" not in stored and org.team.join_code not in stored, "the shift only: no colour, no team"

    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.reload()
    expect(page.get_by_role("heading", name=ALREADY)).to_be_visible()
    expect(
        page.get_by_text("Your rating for the Early shift of Wednesday 18 November has been counted.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Good shift")).to_be_hidden()
    assert posts == [], "known before any tap: nothing was sent"
    screenshot("already-rated")
    assert_no_axe_violations(page)

    clock.set(dt.datetime(2026, 11, 18, 19, 0))  # the Late shift, the Early closed: a new rating is welcome
    page.clock.set_system_time(clock())
    page.reload()
    expect(page.get_by_role("button", name="Good shift")).to_be_visible()
    page.get_by_role("button", name="Good shift").click()
    expect(page.get_by_text("It counts for the Late shift of Wednesday 18 November.")).to_be_visible()
    assert tally(session, org) == (0, 1, 1, 1)


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


def test_when_the_server_fails_twice_the_page_says_so(page: Page, org: Org, session: Session) -> None:
    attempts: list[str] = []

    def unavailable(route) -> None:  # type: ignore[no-untyped-def]
        attempts.append(route.request.post_data_json["idempotency_key"])
        route.fulfill(status=503, content_type=PROBLEM_JSON, body='{"status": 503}')

    page.route(RATINGS, unavailable)
    page.goto(f"/r/{org.team.join_code}")
    page.get_by_role("button", name="Good shift").click()
    expect(page.locator("#status")).to_contain_text("could not be sent")
    assert len(attempts) == 2 and attempts[0] == attempts[1]
    expect(page.get_by_role("button", name="Good shift")).to_be_enabled()
    assert page.evaluate("localStorage.getItem('pulse.queue')") is None, "a server error is not queued"
    assert tally(session, org) == (0, 0, 0, 0)

    page.unroute(RATINGS)
    page.get_by_role("button", name="Good shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    assert tally(session, org) == (0, 0, 1, 1)


def test_a_tough_shift_can_say_why_and_each_reason_counts_once(
    page: Page, org: Org, session: Session, screenshot: Callable[[str], Path]
) -> None:
    keys: list[str] = []
    page.on(
        "request",
        lambda request: (
            keys.append(request.post_data_json["idempotency_key"]) if request.method == "POST" else None
        ),
    )
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_role("group", name=WHY)).to_be_hidden()
    page.get_by_role("button", name="Tough shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    assert tally(session, org) == (1, 0, 0, 1), "counted before any reason is given"
    reasons = page.get_by_role("group", name=WHY)
    expect(reasons).to_be_visible()
    expect(page.locator("#done")).to_be_focused()
    for tag in org.tags:
        box = reasons.locator("label", has_text=tag.label).bounding_box()
        assert box is not None and box["height"] >= 44
    assert reason_tally(session, org) == {}
    screenshot("reasons")

    reasons.get_by_label("Staffing levels").check()
    reasons.get_by_label("Workload").check()
    page.get_by_role("button", name="Send reasons").click()
    expect(page.get_by_text(REASONS_ADDED)).to_be_visible()
    expect(reasons).to_be_hidden()
    assert reason_tally(session, org) == {"Staffing levels": 1, "Workload": 1}
    assert tally(session, org) == (1, 0, 0, 1)
    assert len(keys) == 2 and keys[0] == keys[1], "the reasons carry the rating's own idempotency key"


def test_skipping_the_reasons_leaves_them_unchanged(page: Page, org: Org, session: Session) -> None:
    page.goto(f"/r/{org.team.join_code}")
    page.get_by_role("button", name="OK shift").click()
    reasons = page.get_by_role("group", name=WHY)
    expect(reasons).to_be_visible()
    reasons.get_by_label("Teamwork").check()
    page.get_by_role("button", name="Skip").click()
    expect(reasons).to_be_hidden()
    expect(page.get_by_text(THANKS)).to_be_visible()
    expect(page.locator("#done")).to_be_focused()
    assert tally(session, org) == (0, 1, 0, 1)
    assert reason_tally(session, org) == {}


def test_a_refused_reason_shows_why_and_can_be_tried_again(page: Page, org: Org, session: Session) -> None:
    answers = iter(
        [
            (
                422,
                '{"type": "urn:pulse:problem:unknown-reason", "status": 422, '
                '"detail": "That reason is no longer in use. Choose another."}',
            ),
            (409, '{"type": "urn:pulse:problem:reasons-already-added", "status": 409, "detail": "Added."}'),
        ]
    )

    def answer(route) -> None:  # type: ignore[no-untyped-def]
        status, body = next(answers)
        route.fulfill(status=status, content_type=PROBLEM_JSON, body=body)

    page.route(REASONS, answer)
    page.goto(f"/r/{org.team.join_code}")
    page.get_by_role("button", name="Good shift").click()
    send = page.get_by_role("button", name="Send reasons")
    send.click()
    expect(page.get_by_text("Choose at least one reason, or choose Skip.")).to_be_visible()
    page.get_by_label("Teamwork").check()
    send.click()
    expect(page.get_by_text("That reason is no longer in use. Choose another.")).to_be_visible()
    expect(send).to_be_enabled()
    expect(page.get_by_role("button", name="Skip")).to_be_enabled()
    send.click()
    expect(page.get_by_text(REASONS_ADDED)).to_be_visible()
    assert reason_tally(session, org) == {}, "both answers were made up here; nothing reached the server"


def test_no_reasons_step_after_already_rated(page: Page, org: Org) -> None:
    page.goto(f"/r/{org.team.join_code}")
    page.get_by_role("button", name="Good shift").click()
    expect(page.get_by_role("group", name=WHY)).to_be_visible()
    page.reload()
    page.get_by_role("button", name="Good shift").click()
    expect(page.get_by_text(ALREADY)).to_be_visible()
    expect(page.get_by_role("group", name=WHY)).to_be_hidden()


def test_without_reason_tags_there_is_no_reasons_step(page: Page, org: Org, session: Session) -> None:
    for tag in org.tags:
        session.merge(tag).active = False  # retired: never offered again
    session.commit()
    page.goto(f"/r/{org.team.join_code}")
    page.get_by_role("button", name="Tough shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    expect(page.get_by_text(SUPPORT)).to_be_visible()
    expect(page.get_by_role("group")).to_have_count(0)
    expect(page.get_by_role("button", name="Send reasons")).to_have_count(0)
    assert tally(session, org) == (1, 0, 0, 1)


def test_support_links_follow_a_tough_shift_only(page: Page, org: Org, session: Session) -> None:
    structure.add_support_link(
        session, "Staff wellbeing service", "https://wellbeing.example.org/", "Free, confidential, 24 hours."
    )
    structure.add_support_link(session, "Samaritans", "tel:116123")
    session.commit()
    page.goto(f"/r/{org.team.join_code}")
    heading = page.get_by_role("heading", name="Support if you need it")
    page.get_by_role("button", name="Good shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    expect(heading).to_be_hidden()
    expect(page.get_by_role("link", name="Samaritans")).to_be_hidden()

    page.evaluate("localStorage.clear()")  # a colleague's phone
    page.reload()
    page.get_by_role("button", name="Tough shift").click()
    expect(page.get_by_text(THANKS)).to_be_visible()
    expect(heading).to_be_visible()
    wellbeing = page.get_by_role("link", name="Staff wellbeing service")
    expect(wellbeing).to_have_attribute("href", "https://wellbeing.example.org/")
    expect(wellbeing).to_have_attribute("rel", "noopener noreferrer")
    expect(page.get_by_text("Free, confidential, 24 hours.")).to_be_visible()
    expect(page.get_by_role("link", name="Samaritans")).to_have_attribute("href", "tel:116123")
    expect(page.get_by_text(SUPPORT)).to_have_count(0)
    assert tally(session, org) == (1, 0, 1, 2)
    assert_no_axe_violations(page)


def test_pages_pass_axe_and_load_nothing_from_elsewhere(page: Page, org: Org) -> None:
    hosts: set[str] = set()
    errors: list[str] = []  # script errors, and anything the Content-Security-Policy refused
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_role("button", name="Good shift")).to_be_visible()
    assert page.evaluate(CONTROLLED) is True
    manifest = page.locator("link[rel=manifest]").get_attribute("href")
    assert manifest == f"/r/{org.team.join_code}/manifest.webmanifest"
    assert (
        page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.status)") == 200
    )
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Tough shift").click()
    expect(page.get_by_text(SUPPORT)).to_be_visible()
    expect(page.get_by_role("group", name=WHY)).to_be_visible()
    assert_no_axe_violations(page)  # thanks, the fallback support sentence and the reasons step
    page.get_by_label("Workload").check()
    page.get_by_role("button", name="Send reasons").click()
    expect(page.get_by_text(REASONS_ADDED)).to_be_visible()
    assert_no_axe_violations(page)
    assert errors == []
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
    # Each file once (the service worker fetches the page's files again, for its cache); icons left out.
    first = {r.url: r for r in reversed(responses) if not r.url.endswith(".svg")}
    total = sum(len(r.body()) for r in first.values())
    assert total < PAGE_WEIGHT_LIMIT, f"first load is {total} bytes"
