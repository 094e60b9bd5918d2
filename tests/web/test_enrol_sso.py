"""Enrolling a phone by signing in at the organisation's identity provider, against the local OpenID Connect
provider over HTTP: the verified email is matched to the roster and the page hands the device a credential;
someone not on the roster gets a clear refusal and no credential."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pulse import create_app
from pulse.models import EnrolledDevice
from pulse.services.accounts import roster
from tests.admin.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    LocalProvider,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)
from tests.conftest import FakeClock
from tests.factories import make_org
from tests.factories_roster import put_on_team

ENROL_CALLBACK = "http://localhost/enrol/sso/callback"
EMAIL = "ward.manager@example.nhs.uk"  # the local provider's user
CREDENTIAL = re.compile(r'data-credential="([A-Za-z0-9_-]{43})"')


@pytest.fixture
def app(
    clean_db: Engine, database_url: str, clock: FakeClock, oidc_provider: LocalProvider
) -> Iterator[Flask]:
    oidc_provider.redirect_uris.add(ENROL_CALLBACK)  # registered at the provider beside the admin callback
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
    yield app
    app.extensions["pulse"].engine.dispose()


def through_provider(client: FlaskClient, provider: LocalProvider) -> str:
    """Start enrolling, follow the provider as a browser would; the callback path back to Pulse."""
    response = client.get("/enrol/sso")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["redirect_uri"] == [ENROL_CALLBACK]
    assert query["code_challenge_method"] == ["S256"]
    at_provider = requests.get(response.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    callback = urlsplit(at_provider.headers["Location"])
    return f"{callback.path}?{callback.query}"


def devices(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(EnrolledDevice)) or 0


def test_the_page_offers_signing_in_with_the_named_provider(client: FlaskClient) -> None:
    page = client.get("/enrol").get_data(as_text=True)
    assert 'href="/enrol/sso"' in page and "Sign in with NHSmail" in page


def test_a_person_on_the_roster_enrols_by_signing_in(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider
) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, EMAIL.upper())
    response = client.get(through_provider(client, oidc_provider))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = html.unescape(response.get_data(as_text=True))
    assert "This phone is enrolled" in page and f"Enrolled for {EMAIL}." in page
    assert "Team 1 (Emergency Department)" in page
    found = CREDENTIAL.search(response.get_data(as_text=True))
    assert found, "the page hands the credential to enrol.js"
    assert roster.authenticate_device(session, found.group(1)).staff_member_id == person.id
    assert devices(session) == 1
    with client.session_transaction() as browser_session:
        assert "_user_id" not in browser_session  # enrolling signs nobody in to the admin area


@pytest.mark.parametrize("roster_state", ["absent", "deactivated", "on no team"])
def test_a_person_not_on_the_roster_is_refused_clearly(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider, roster_state: str
) -> None:
    org = make_org(session)
    put_on_team(session, org.team, "someone.else@example.nhs.uk")
    if roster_state != "absent":
        (person,) = put_on_team(session, org.team, EMAIL)
        if roster_state == "deactivated":
            roster.set_person_active(session, None, person, False)
        else:
            roster.remove_from_team(session, None, person, org.team)
        session.commit()
    response = client.get(through_provider(client, oidc_provider))
    assert response.status_code == 403
    page = html.unescape(response.get_data(as_text=True))
    assert "This phone cannot be enrolled" in page
    assert "Ask your manager" in page
    assert "data-credential" not in page
    assert devices(session) == 0


def test_an_unverified_email_is_refused(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider
) -> None:
    org = make_org(session)
    put_on_team(session, org.team, EMAIL)
    oidc_provider.user["email_verified"] = False
    response = client.get(through_provider(client, oidc_provider))
    assert response.status_code == 403
    assert "did not confirm your email address" in html.unescape(response.get_data(as_text=True))
    assert devices(session) == 0


def test_a_refusal_at_the_provider_sends_the_person_back_to_the_enrolment_page(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider
) -> None:
    make_org(session)
    oidc_provider.deny = True
    response = client.get(through_provider(client, oidc_provider))
    assert response.status_code == 400
    assert "Go back to the enrolment page and try again." in html.unescape(response.get_data(as_text=True))


def test_a_provider_that_is_down_is_a_502_page(client: FlaskClient, oidc_provider: LocalProvider) -> None:
    oidc_provider.stop()
    response = client.get("/enrol/sso")
    assert response.status_code == 502
    assert "did not answer" in html.unescape(response.get_data(as_text=True))
