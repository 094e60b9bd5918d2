"""Enrolling a phone by signing in, in real Chromium against the local OpenID Connect provider: the browser
goes to the provider and back, enrol.js keeps the credential the page hands it and takes it out of the page,
and axe-core finds nothing on the enrolled page or on a refusal."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from pulse import create_app
from pulse.services.accounts import roster
from tests.admin.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    LocalProvider,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)
from tests.browser.conftest import assert_no_axe_violations
from tests.conftest import FakeClock
from tests.factories import make_org
from tests.factories_roster import put_on_team

EMAIL = "ward.manager@example.nhs.uk"  # the local provider's user


@pytest.fixture
def live_server(
    clean_db: Engine, database_url: str, clock: FakeClock, oidc_provider: LocalProvider
) -> Iterator[str]:
    """Pulse with single sign-on at the local provider, served like conftest's live server."""
    app = create_app(
        {
            "database_url": database_url,
            "env": "test",
            "now": clock,
            "dashboard": False,
            "min_group_size": 5,
            "oidc_issuer": oidc_provider.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_provider_name": "NHSmail",
        }
    )
    app.config["TESTING"] = True
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


@pytest.fixture
def viewport() -> str:
    return "phone"


def test_signing_in_enrols_the_phone(page: Page, session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, EMAIL)
    page.goto("/enrol")
    page.get_by_role("link", name="Sign in with NHSmail").click()  # to the provider and straight back
    expect(page.get_by_role("heading", name="This phone is enrolled")).to_be_visible()
    expect(page.get_by_text(f"Enrolled for {EMAIL}.")).to_be_visible()
    # The provider's code and state are taken out of the address (by the page's script, just after it draws).
    expect(page).to_have_url(re.compile(r"/enrol$"))
    credential = page.evaluate("window.localStorage.getItem('pulse.device-credential')")
    assert credential and roster.authenticate_device(session, credential).staff_member_id == person.id
    assert page.locator("[data-credential]").count() == 0, "the credential is taken out of the page"
    assert_no_axe_violations(page)


def test_someone_not_on_the_roster_is_told_so(page: Page, session: Session) -> None:
    make_org(session)
    page.goto("/enrol")
    page.get_by_role("link", name="Sign in with NHSmail").click()
    expect(page.get_by_role("alert")).to_contain_text("This phone cannot be enrolled")
    expect(page.get_by_role("alert")).to_contain_text("Ask your manager to add you to your team.")
    assert page.evaluate("window.localStorage.getItem('pulse.device-credential')") is None
    assert_no_axe_violations(page)
