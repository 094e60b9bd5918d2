"""Single sign-on through OpenID Connect, end to end against a real local provider over HTTP: Pulse's test
client on one side, `requests` playing the browser at the provider on the other.

Proves: the redirect carries state, nonce and a PKCE S256 challenge; a verified email of an active account
signs in with a fresh session; everything else (unknown or unverified email, a bad state, a refusal, a token
that fails validation, a provider that is down) is refused with a clear page and nobody signed in; SSO off is
404.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pulse import create_app
from pulse.models import Role, User
from pulse.services.accounts import create_user
from tests.admin.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    PULSE_CALLBACK,
    LocalProvider,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)
from tests.conftest import FakeClock

EMAIL = "ward.manager@example.nhs.uk"
NAME = "Ward Manager"


@pytest.fixture
def app(
    clean_db: Engine, database_url: str, clock: FakeClock, oidc_provider: LocalProvider
) -> Iterator[Flask]:
    """Pulse with single sign-on at the local provider (replaces conftest's app, so `client` and `session`
    use this one)."""
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
        }
    )
    app.config["TESTING"] = True
    yield app
    app.extensions["pulse"].engine.dispose()


def add_account(session: Session, email: str = EMAIL, *, active: bool = True) -> User:
    """An account made by an administrator ahead of time, with no password (SSO only)."""
    user = create_user(session, email=email, name=NAME, role=Role.MANAGER)
    user.active = active
    session.commit()
    return user


def start_sign_in(client: FlaskClient, provider: LocalProvider) -> str:
    """Go to Pulse's SSO link, then to the provider as a browser would; the callback path for Pulse."""
    response = client.get("/admin/login/sso")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{provider.issuer}/authorize?")
    at_provider = requests.get(location, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    callback = urlsplit(at_provider.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == PULSE_CALLBACK
    return f"{callback.path}?{callback.query}"


def page_text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def signed_in(client: FlaskClient) -> bool:
    return client.get("/admin/account").status_code == 200


def count_users(session: Session) -> int:
    session.rollback()  # a fresh snapshot
    return session.scalar(select(func.count()).select_from(User)) or 0


def test_sign_in_through_the_provider(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider
) -> None:
    add_account(session)
    response = client.get("/admin/login/sso")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [PULSE_CALLBACK]
    assert query["response_type"] == ["code"]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == ["S256"]
    for name in ("state", "nonce", "code_challenge"):
        assert len(query[name][0]) >= 20

    callback_path = start_sign_in(client, oidc_provider)
    with client.session_transaction() as browser_session:
        browser_session["planted"] = "from before signing in"
    response = client.get(callback_path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    with client.session_transaction() as browser_session:
        assert "planted" not in browser_session  # a fresh session: nothing kept from before
        assert not [key for key in browser_session if key.startswith("_state_")]
        assert browser_session.permanent

    account = client.get("/admin/account")
    assert account.status_code == 200
    assert NAME in page_text(account)
    assert EMAIL in page_text(account)
    assert "single sign-on" in page_text(account)  # no password to change

    # The same callback again: its state was used up, so it is refused and the provider is not asked.
    asked = oidc_provider.token_requests
    assert client.get(callback_path).status_code == 400
    assert oidc_provider.token_requests == asked


def test_the_login_page_offers_single_sign_on(client: FlaskClient) -> None:
    response = client.get("/admin/login")
    assert response.status_code == 200
    assert 'href="/admin/login/sso"' in response.get_data(as_text=True)


def test_email_only_from_userinfo_is_accepted(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider
) -> None:
    add_account(session)
    oidc_provider.email_in_id_token = False
    response = client.get(start_sign_in(client, oidc_provider))
    assert response.status_code == 303
    assert signed_in(client)


@pytest.mark.parametrize("active", [None, False], ids=["no account", "deactivated account"])
def test_an_email_without_an_active_account_is_refused(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider, active: bool | None
) -> None:
    add_account(session, "someone.else@example.nhs.uk")
    if active is not None:
        add_account(session, active=active)
    before = count_users(session)
    response = client.get(start_sign_in(client, oidc_provider))
    assert response.status_code == 403
    assert "Your organisation account is not set up in Pulse. Ask a Pulse administrator to add you." in (
        page_text(response)
    )
    assert count_users(session) == before  # SSO never creates an account
    assert not signed_in(client)


@pytest.mark.parametrize(
    "user_change",
    [{"email_verified": False}, {"email_verified": "false"}, {"email_verified": None}, {"email": None}],
    ids=["unverified", "unverified as text", "no email_verified", "no email"],
)
def test_an_unverified_email_is_refused(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider, user_change: dict[str, Any]
) -> None:
    add_account(session)
    for claim, value in user_change.items():
        if value is None:
            oidc_provider.user.pop(claim)
        else:
            oidc_provider.user[claim] = value
    response = client.get(start_sign_in(client, oidc_provider))
    assert response.status_code == 403
    assert "did not confirm your email address" in page_text(response)
    assert not signed_in(client)


def test_a_tampered_state_is_refused(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider
) -> None:
    add_account(session)
    callback = urlsplit(start_sign_in(client, oidc_provider))
    query = parse_qs(callback.query)
    tampered = f"{callback.path}?code={query['code'][0]}&state={query['state'][0]}x"
    response = client.get(tampered)
    assert response.status_code == 400
    assert "This sign-in link has expired" in page_text(response)
    assert oidc_provider.token_requests == 0  # the code was never exchanged
    assert not signed_in(client)


def test_a_callback_from_another_browser_is_refused(
    app: Flask, client: FlaskClient, session: Session, oidc_provider: LocalProvider
) -> None:
    """Login CSRF: a callback started in someone else's browser carries a state this session never made."""
    add_account(session)
    callback_path = start_sign_in(app.test_client(), oidc_provider)
    assert client.get(callback_path).status_code == 400
    assert not signed_in(client)


def test_a_refusal_at_the_provider_is_shown(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider
) -> None:
    add_account(session)
    oidc_provider.deny = True
    callback_path = start_sign_in(client, oidc_provider)
    assert "error=access_denied" in callback_path
    response = client.get(callback_path)
    assert response.status_code == 400
    assert "Signing in was cancelled or refused at your organisation's sign-in page." in page_text(response)
    assert not signed_in(client)


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://impostor.example"},
        {"aud": "another-client", "azp": CLIENT_ID},
        {"aud": None},
        {"nonce": "not-the-nonce-pulse-sent"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
        {"forge_signature": True},
    ],
    ids=["wrong issuer", "wrong audience", "no audience", "wrong nonce", "expired", "forged signature"],
)
def test_an_id_token_that_fails_validation_is_refused(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider, overrides: dict[str, Any]
) -> None:
    add_account(session)
    oidc_provider.forge_signature = bool(overrides.pop("forge_signature", False))
    oidc_provider.id_token_overrides = overrides
    response = client.get(start_sign_in(client, oidc_provider))
    assert response.status_code == 400
    assert "Pulse could not verify the answer from your organisation's sign-in service." in page_text(
        response
    )
    assert not signed_in(client)


@pytest.mark.parametrize("failure", ["connection refused", "HTTP 503"])
def test_a_token_endpoint_that_is_down_gives_a_clear_page(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider, failure: str
) -> None:
    add_account(session)
    callback_path = start_sign_in(client, oidc_provider)
    if failure == "connection refused":
        oidc_provider.stop()
    else:
        oidc_provider.token_status = 503
    response = client.get(callback_path)
    assert response.status_code == 502
    assert "Pulse could not reach your organisation's sign-in service" in page_text(response)
    assert not signed_in(client)


def test_a_provider_that_is_down_at_the_start_gives_a_clear_page(
    client: FlaskClient, oidc_provider: LocalProvider
) -> None:
    oidc_provider.stop()
    response = client.get("/admin/login/sso")
    assert response.status_code == 502
    assert "Pulse could not reach your organisation's sign-in service" in page_text(response)


def test_without_single_sign_on_both_routes_are_not_found(
    clean_db: Engine, database_url: str, clock: FakeClock
) -> None:
    app = create_app({"database_url": database_url, "env": "test", "now": clock, "dashboard": False})
    app.config["TESTING"] = True
    try:
        client = app.test_client()
        assert client.get("/admin/login/sso").status_code == 404
        assert client.get("/admin/login/sso/callback?code=x&state=y").status_code == 404
        assert "/admin/login/sso" not in client.get("/admin/login").get_data(as_text=True)
    finally:
        app.extensions["pulse"].engine.dispose()


def test_the_redirect_uri_is_under_the_public_url(
    clean_db: Engine, database_url: str, clock: FakeClock, oidc_provider: LocalProvider
) -> None:
    """Behind a reverse proxy the request's own address is not the one registered at the provider."""
    app = create_app(
        {
            "database_url": database_url,
            "env": "test",
            "now": clock,
            "dashboard": False,
            "public_url": "https://pulse.example.nhs.uk/",
            "oidc_issuer": oidc_provider.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
        }
    )
    try:
        response = app.test_client().get("/admin/login/sso")
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        assert query["redirect_uri"] == ["https://pulse.example.nhs.uk/admin/login/sso/callback"]
    finally:
        app.extensions["pulse"].engine.dispose()


@pytest.mark.parametrize(("edov", "allowed"), [(True, True), (False, False)])
def test_entra_ids_email_domain_owner_claim_counts_as_verified(
    client: FlaskClient, session: Session, oidc_provider: LocalProvider, edov: bool, allowed: bool
) -> None:
    """Entra ID leaves out email_verified for work accounts; its optional xms_edov claim says the same."""
    add_account(session)
    oidc_provider.user.pop("email_verified")
    oidc_provider.user["xms_edov"] = edov
    response = client.get(start_sign_in(client, oidc_provider))
    assert (response.status_code == 303) is allowed
    assert signed_in(client) is allowed
