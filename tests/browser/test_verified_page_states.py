"""The verified rating page in real Chromium, in each state a person sees: not enrolled (a way to enrol, no
answers that cannot work), ready (one tap), thanked (with reasons sent with the token), not on this team, and
tokens refused because the server signed them with a key other than the published one. axe-core finds nothing
in any of them, and they fit 320 px and 200% text."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from playwright.sync_api import Page, Response, Route, expect
from sqlalchemy.orm import Session

from pulse.services.accounts import roster
from pulse.services.tokens import (
    build_day_info,
    build_org_week_info,
    build_slot_info,
    build_week_info,
    decode_base64url,
    encode_base64url,
    evaluate_blinded,
)
from tests.browser.conftest import assert_no_axe_violations
from tests.browser.test_rating_fit import FITS, set_fit
from tests.browser.test_rating_fit import OVERFLOW as FITS_CHECK
from tests.browser.test_rating_page import reason_tally, tally
from tests.browser.test_verified_rating import EMAIL, READY, TOKENS, on_team, verified
from tests.conftest import FakeClock
from tests.factories import Org, make_org
from tests.factories_roster import enrol, put_on_team

TOKENS_API = "**/api/v1/tokens"
KEYS_REFUSED = (
    "This phone refused rating tokens from Pulse, because they were not made with the keys Pulse "
    "publishes for everyone. Tokens like that could let someone recognise your ratings, so none of them "
    "will be used. Please tell the team that runs Pulse in your organisation."
)


@pytest.fixture
def viewport() -> str:
    return "phone"


@pytest.fixture
def org(session: Session) -> Org:
    return make_org(session)


def enrolled_phone(page: Page, credential: str, clock: FakeClock) -> None:
    """This browser holds an enrolment (as enrol.js leaves it) and a clock that agrees with the server's."""
    page.clock.install(time=clock())
    page.goto("/enrol")
    page.evaluate("credential => localStorage.setItem('pulse.device-credential', credential)", credential)


def assert_fits_and_accessible(page: Page) -> None:
    assert page.evaluate(FITS_CHECK) == [], f"{page.url} does not fit"
    assert_no_axe_violations(page)


@pytest.mark.parametrize("fit", list(FITS))
def test_not_enrolled_then_ready_then_thanked(
    page: Page, org: Org, session: Session, clock: FakeClock, fit: str
) -> None:
    person = on_team(session, org)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    set_fit(page, fit)
    page.clock.install(time=clock())
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_role("heading", name="Enrol this phone to rate")).to_be_visible()
    expect(page.get_by_role("link", name="Enrol this phone")).to_have_attribute("href", "/enrol")
    for name in ("Good shift", "OK shift", "Tough shift"):
        expect(page.get_by_role("button", name=name)).to_be_hidden()
    assert_fits_and_accessible(page)

    page.evaluate(
        "credential => localStorage.setItem('pulse.device-credential', credential)", enrol(session, person)
    )
    page.reload()  # the page fetches the tokens it lacks, then offers the answers
    expect(page.get_by_text(READY)).to_be_visible()
    expect(page.get_by_role("heading", name="Enrol this phone to rate")).to_be_hidden()
    assert_fits_and_accessible(page)

    page.get_by_role("button", name="Tough shift").click()  # one tap
    expect(page.get_by_text("Thank you. Your rating has been counted.")).to_be_visible()
    expect(page.get_by_text("It counts for the Early shift of Wednesday 18 November.")).to_be_visible()
    assert tally(session, org) == (1, 0, 0, 1)
    assert_fits_and_accessible(page)
    page.get_by_label("Workload").check()
    page.get_by_role("button", name="Send reasons").click()  # with the token the rating spent
    expect(page.get_by_text("Thanks, your reasons have been added.")).to_be_visible()
    assert reason_tally(session, org) == {"Workload": 1}

    page.reload()  # the same shift: already rated, known before any tap
    expect(page.get_by_role("heading", name="You've already rated this shift. Thank you.")).to_be_visible()
    assert_fits_and_accessible(page)
    assert errors == []


def test_a_server_that_signs_with_a_key_of_its_own_is_caught(
    page: Page, org: Org, session: Session, clock: FakeClock
) -> None:
    """A server that evaluates this phone's tokens under a key other than the published one (to recognise its
    ratings later) hands out valid-looking tokens with valid proofs, for its own key. The page checks each
    proof against the published key, refuses them all, keeps none, and says so plainly."""
    rogue_seed = secrets.token_bytes(32)
    swapped: list[str] = []

    def info(request: dict) -> bytes:
        kind = request["kind"]
        if kind == "slot":
            shift_date = dt.date.fromisoformat(request["shift_date"])
            return build_slot_info(request["team_id"], shift_date, request["band_id"])
        if kind == "week":
            return build_week_info(request["team_id"], dt.date.fromisoformat(request["week_start"]))
        if kind == "day":
            return build_day_info(dt.date.fromisoformat(request["shift_date"]))
        return build_org_week_info(dt.date.fromisoformat(request["week_start"]))

    def naming(entry: dict) -> tuple:
        return tuple(entry.get(name) for name in ("kind", "team_id", "shift_date", "band_id", "week_start"))

    def swap_the_key(route: Route) -> None:
        # The real server's answer, with each evaluation made again under the rogue key.
        response = route.fetch()
        answer = response.json()
        sent = {naming(r): r for r in (route.request.post_data_json or {})["requests"]}
        for issued in answer["issued"]:
            request = sent[naming(issued)]
            rogue = evaluate_blinded(rogue_seed, info(request), decode_base64url(request["blinded"]))
            issued["evaluation"] = encode_base64url(rogue)
            swapped.append(issued["kind"])
        route.fulfill(response=response, json=answer)

    enrolled_phone(page, enrol(session, on_team(session, org)), clock)
    page.route(TOKENS_API, swap_the_key)
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_text(KEYS_REFUSED)).to_be_visible()
    assert swapped.count("slot") == 36, "the server did issue, under its own key"
    assert page.evaluate(TOKENS) == {}, "no refused token is kept"
    expect(page.get_by_role("button", name="Good shift")).to_be_hidden()
    expect(page.get_by_role("button", name="Try again")).to_be_hidden()
    assert_no_axe_violations(page)
    assert tally(session, org) == (0, 0, 0, 0)


def test_someone_not_on_this_team_is_told_so(
    page: Page, org: Org, session: Session, clock: FakeClock
) -> None:
    (person,) = put_on_team(session, org.teams[1], EMAIL)  # on the other team only
    verified(session)
    enrolled_phone(page, enrol(session, person), clock)
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_text("You are not on Team 1's staff list in Pulse")).to_be_visible()
    expect(page.get_by_role("button", name="Good shift")).to_be_hidden()
    held = page.evaluate(TOKENS)
    assert not [name for name in held if name.startswith(("slot:", "week:"))], "nothing of Team 1's"
    assert_no_axe_violations(page)


def test_a_phone_whose_clock_is_off_spends_the_slot_the_server_names(
    page: Page, org: Org, session: Session, clock: FakeClock
) -> None:
    """The phone fetched its tokens in the morning; later its clock runs 8 hours fast, so it takes the Late
    shift for the open one, while the server's clock says the Early. The server names the open slot, and
    the page spends that slot's token instead: counted once, for the Early; the Late's token is kept."""
    enrolled_phone(page, enrol(session, on_team(session, org)), clock)
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_text(READY)).to_be_visible()
    page.clock.set_system_time(clock() + dt.timedelta(hours=8))
    page.reload()
    answers: list[int] = []

    def keep(response: Response) -> None:
        if response.url.endswith("/api/v1/ratings"):
            answers.append(response.status)

    page.on("response", keep)
    page.get_by_role("button", name="Good shift").click()
    expect(page.get_by_text("It counts for the Early shift of Wednesday 18 November.")).to_be_visible()
    assert answers == [409, 201]
    assert tally(session, org) == (0, 0, 1, 1)
    held = page.evaluate(TOKENS)
    assert f"slot:{org.team.id}/2026-11-18/{org.bands['Early'].id}" not in held
    assert f"slot:{org.team.id}/2026-11-18/{org.bands['Late'].id}" in held


def test_a_cancelled_enrolment_is_told_how_to_enrol_again(
    page: Page, org: Org, session: Session, clock: FakeClock
) -> None:
    person = on_team(session, org)
    enrolled_phone(page, enrol(session, person), clock)
    roster.revoke_devices(session, None, person)  # a lost phone, cancelled by the manager
    session.commit()
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_role("heading", name="Enrol this phone to rate")).to_be_visible()
    expect(page.get_by_text("This phone's enrolment has been cancelled. Enrol it again")).to_be_visible()
    expect(page.get_by_role("button", name="Good shift")).to_be_hidden()
    assert_no_axe_violations(page)

    page.get_by_role("link", name="How your rating is protected").click()
    expect(page.get_by_text("Verified rating.")).to_be_visible()
    expect(page.get_by_text("What a web page cannot prevent")).to_be_visible()
    assert_no_axe_violations(page)


def test_a_saved_rating_for_the_wrong_slot_is_sent_with_the_open_slots_token(
    page: Page, org: Org, session: Session, clock: FakeClock
) -> None:
    """Offline, with its clock 8 hours fast, the phone saves the rating with the Late shift's token; back
    online the server names the Early as open, and the saved rating goes again with the Early's token."""
    enrolled_phone(page, enrol(session, on_team(session, org)), clock)
    page.goto(f"/r/{org.team.join_code}")
    expect(page.get_by_text(READY)).to_be_visible()
    page.clock.set_system_time(clock() + dt.timedelta(hours=8))
    page.reload()
    page.context.set_offline(True)
    page.get_by_role("button", name="OK shift").click()
    [saved] = page.evaluate("JSON.parse(localStorage.getItem('pulse.queue'))")
    assert saved["body"]["token"]["band_id"] == org.bands["Late"].id
    page.clock.set_system_time(clock() + dt.timedelta(hours=8, minutes=1))
    page.context.set_offline(False)
    expect(page.get_by_text("Your saved rating has been sent and counted.")).to_be_visible()
    assert tally(session, org) == (0, 1, 0, 1)
    assert page.evaluate("localStorage.getItem('pulse.queue')") is None
    assert f"slot:{org.team.id}/2026-11-18/{org.bands['Early'].id}" not in page.evaluate(TOKENS)
