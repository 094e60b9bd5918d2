"""Verified rating in real Chromium, end to end against Pulse's own API: enrol (a personal code, or signing in
at a local OpenID Connect provider), the page fetches the phone's tokens at once, the phone goes offline, the
rating page opens from the service worker and a tap saves the rating with its token, and back online it is
sent and counted once, however often it is sent."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from pulse import create_app
from pulse.models import RatingMode, StaffMember
from pulse.services.organisation import set_rating_mode
from tests.admin.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    LocalProvider,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)
from tests.browser.conftest import PUBLIC_LOOKING_HOST, assert_no_axe_violations
from tests.browser.test_rating_page import CONTROLLED, tally
from tests.conftest import FakeClock, open_inbox
from tests.factories import Org, make_org
from tests.factories_roster import issue, put_on_team

EMAIL = "ward.manager@example.nhs.uk"  # the local provider's user
# Wednesday 18 November, 10:00 (the test clock): the Early shift is open. Left this week: Wednesday's three
# shifts and four days of three; next week: 21. Every one of them can be rated from this phone.
READY = "This phone is ready for your next 36 shifts."
QUEUED = "You're offline. Your rating is saved on this phone and will be sent when you're back online."
SENT = "Your saved rating has been sent and counted."
QUEUE = "JSON.parse(localStorage.getItem('pulse.queue') || '[]')"
TOKENS = "JSON.parse(localStorage.getItem('pulse.tokens') || '{}').entries || {}"
RATINGS = "/api/v1/ratings"


@pytest.fixture
def viewport() -> str:
    return "phone"


@pytest.fixture
def org(session: Session) -> Org:
    return make_org(session)


def verified(session: Session) -> None:
    """The organisation rates verified, switched on before this week began."""
    set_rating_mode(session, RatingMode.VERIFIED, since=dt.date(2026, 11, 1))
    session.commit()


def on_team(session: Session, org: Org, identifier: str = EMAIL) -> StaffMember:
    (person,) = put_on_team(session, org.team, identifier)
    verified(session)
    return person


def sent_ratings(page: Page) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []

    def keep(request: Request) -> None:
        if request.method == "POST" and request.url.endswith(RATINGS):
            bodies.append(request.post_data_json or {})

    page.on("request", keep)
    return bodies


def rate_offline_then_online(page: Page, org: Org, session: Session) -> None:
    """From an enrolled phone holding its tokens: the rating page, offline, one tap, online, counted once."""
    page.get_by_role("link", name="Team 1 (Emergency Department)").click()
    expect(page.get_by_role("heading", name="How was your shift?")).to_be_visible()
    expect(page.get_by_text(READY)).to_be_visible()
    expect(page.get_by_role("button", name="Good shift")).to_be_visible()
    assert page.evaluate(CONTROLLED) is True
    expect(page.get_by_text("Verified rating.")).to_be_visible()
    # The worker kept the page's modules, and the token code with its VOPRF bundle, for this verified page.
    for asset in ("verified-rate.js", "verified-issue.js", "tokens.js", "vendor/voprf.bundle.js"):
        # The worker caches them as it installs, maybe after the page is ready: wait for it, not a fixed time.
        page.wait_for_function(f"caches.match('/r/static/{asset}').then(found => !!found)", timeout=30_000)

    page.context.set_offline(True)
    page.reload()  # only the service worker can answer now
    expect(page.get_by_text(READY)).to_be_visible()
    bodies = sent_ratings(page)
    page.get_by_role("button", name="OK shift").click()
    expect(page.get_by_role("status").filter(has_text=QUEUED)).to_be_visible()
    assert_no_axe_violations(page)
    [saved] = page.evaluate(QUEUE)
    body = saved["body"]
    assert "device_secret" not in body, "a verified rating carries a token, never a device secret"
    assert body["token"]["shift_date"] == "2026-11-18"
    assert body["token"]["band_id"] == org.bands["Early"].id
    for field in ("week_pseudonym", "day_pseudonym", "orgweek_pseudonym"):
        assert set(body[field]) == {"nonce", "authenticator"}
    slot = f"slot:{org.team.id}/2026-11-18/{org.bands['Early'].id}"
    assert slot not in page.evaluate(TOKENS), "the saved rating holds the token now: it is spent once"
    expect(page.locator("#token-status")).to_have_text("This phone is ready for your next 35 shifts.")
    assert bodies == [] and tally(session, org) == (0, 0, 0, 0)

    page.context.set_offline(False)  # the page hears "online" and sends what it saved
    expect(page.get_by_text(SENT)).to_be_visible()
    assert page.evaluate(QUEUE) == []
    assert tally(session, org) == (0, 1, 0, 1)
    assert len(bodies) == 1 and bodies[0]["token"] == body["token"]

    # The answer never reached the phone: the same saved rating is sent again. It is counted once.
    page.evaluate(f"localStorage.setItem('pulse.queue', {json.dumps(json.dumps([saved]))})")
    page.reload()
    expect(page.get_by_text(SENT)).to_be_visible()
    assert len(bodies) == 2 and bodies[1]["idempotency_key"] == bodies[0]["idempotency_key"]
    assert tally(session, org) == (0, 1, 0, 1)


def test_with_a_personal_code_enrol_fetch_tokens_rate_offline_counted_once(
    page: Page, org: Org, session: Session, clock: FakeClock
) -> None:
    code = issue(session, on_team(session, org))
    page.clock.install(time=clock())  # the phone's clock agrees with the server's
    page.goto(f"/enrol/{code}")
    page.get_by_role("button", name="Enrol this phone").click()
    expect(page.get_by_role("heading", name="This phone is enrolled")).to_be_visible()
    # Straight after enrolling, the page fetches the tokens for this week and the next.
    expect(page.get_by_text("This phone is ready to rate your next 36 shifts for Team 1.")).to_be_visible()
    held = page.evaluate(TOKENS)
    assert sum(1 for name in held if name.startswith("slot:")) == 36
    assert sum(1 for name in held if name.startswith("day:")) == 12  # Wednesday to next Sunday
    assert {name for name in held if "week:" in name} == {
        f"week:{org.team.id}/2026-11-16",
        f"week:{org.team.id}/2026-11-23",
        "orgweek:2026-11-16",
        "orgweek:2026-11-23",
    }
    for token in held.values():
        assert set(token) == {"nonce", "authenticator", "key", "date"}, "tokens only: never a blind"
    assert_no_axe_violations(page)
    rate_offline_then_online(page, org, session)


@pytest.fixture
def live_server(
    clean_db: Engine, database_url: str, clock: FakeClock, oidc_provider: LocalProvider, tmp_path: Path
) -> Iterator[str]:
    """Pulse with single sign-on at the local provider, served like conftest's live server (its data folder
    shared with the `app` fixture, so that the test's session can mix what the page rated)."""
    app = create_app(
        {
            "database_url": database_url,
            "env": "test",
            "now": clock,
            "dashboard": False,
            "min_group_size": 5,
            "trusted_hosts": f"127.0.0.1,{PUBLIC_LOOKING_HOST}",
            "data_dir": tmp_path / "pulse-data",
            "oidc_issuer": oidc_provider.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_provider_name": "NHSmail",
        }
    )
    app.config["TESTING"] = True
    open_inbox(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    oidc_provider.redirect_uris.add(f"{base}/enrol/sso/callback")
    thread = threading.Thread(target=server.serve_forever, name="pulse-live-server", daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        app.extensions["pulse"].engine.dispose()


def test_signing_in_enrol_fetch_tokens_rate_offline_counted_once(
    page: Page, org: Org, session: Session, clock: FakeClock
) -> None:
    on_team(session, org, EMAIL)
    page.clock.install(time=clock())
    page.goto(f"/r/{org.team.join_code}")
    # Not enrolled: no answers that cannot work, and a clear way to enrol.
    expect(page.get_by_role("heading", name="Enrol this phone to rate")).to_be_visible()
    expect(page.get_by_role("button", name="Good shift")).to_be_hidden()
    page.get_by_role("link", name="Enrol this phone").click()
    page.get_by_role("link", name="Sign in with NHSmail").click()  # to the provider and straight back
    expect(page.get_by_role("heading", name="This phone is enrolled")).to_be_visible()
    expect(page.get_by_text("This phone is ready to rate your next 36 shifts for Team 1.")).to_be_visible()
    rate_offline_then_online(page, org, session)
