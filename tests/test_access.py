"""Who may view the figures (the organisation's setting), and the security headers on every answer."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from pulse.models import DashboardAccess
from pulse.services.organisation import set_dashboard_access
from tests.factories import make_org

FIGURES = "/api/v1/figures/organisation/weeks"


@pytest.fixture
def app(clean_db: object, database_url: str, clock: object):  # type: ignore[no-untyped-def]
    """Pulse with the dashboard mounted: the gate covers it too."""
    from pulse import create_app

    app = create_app({"database_url": database_url, "env": "test", "now": clock, "min_group_size": 5})
    app.config["TESTING"] = True
    yield app
    app.extensions["pulse"].engine.dispose()


@pytest.fixture
def members_only(session: Session) -> None:
    set_dashboard_access(session, DashboardAccess.SIGNED_IN)
    session.commit()


def test_by_default_anyone_may_view(client: FlaskClient, session: Session) -> None:
    make_org(session)
    assert client.get(FIGURES).status_code == 200
    assert client.get("/dashboard/").status_code == 200


def test_members_only_turns_strangers_away_plainly(
    client: FlaskClient, session: Session, members_only: None
) -> None:
    page = client.get("/dashboard/")
    assert page.status_code == 401
    text = " ".join(page.get_data(as_text=True).split())
    assert "Open your team's rating link on this device" in text
    api = client.get(FIGURES)
    assert api.status_code == 401 and api.mimetype == "application/problem+json"
    assert api.get_json()["type"] == "urn:pulse:problem:sign-in-needed"
    assert client.get("/api/v1/figures/export.csv").status_code == 401
    # Dash's own script bundles hold no figures.
    assert client.get("/dashboard/assets/pulse.css").status_code == 200


def test_a_device_that_opened_its_team_link_may_view(
    client: FlaskClient, session: Session, members_only: None
) -> None:
    org = make_org(session)
    opened = client.get(f"/r/{org.team.join_code}")
    cookie = opened.headers["Set-Cookie"]
    assert cookie.startswith("pulse_joined=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert org.team.join_code not in cookie and str(org.team.id) not in cookie.split(";")[0].split(".")[0]
    assert client.get(FIGURES).status_code == 200
    assert client.get("/dashboard/").status_code == 200


def test_a_forged_joined_cookie_does_not_count(
    client: FlaskClient, session: Session, members_only: None
) -> None:
    client.set_cookie("pulse_joined", "joined")
    assert client.get(FIGURES).status_code == 401


def test_a_signed_in_manager_may_view(app: Flask, session: Session, members_only: None) -> None:
    from pulse.models import Role
    from pulse.services import accounts
    from tests.admin.conftest import sign_in

    accounts.create_user(
        session, email="m@example.nhs.uk", name="M", role=Role.MANAGER, password="x" * 12 + "yz"
    )
    session.commit()
    client = app.test_client()
    sign_in(client, "m@example.nhs.uk", "x" * 12 + "yz")
    assert client.get(FIGURES).status_code == 200


def test_security_headers_everywhere(client: FlaskClient, session: Session) -> None:
    org = make_org(session)
    for path in ("/dashboard/", FIGURES, f"/r/{org.team.join_code}", "/admin/login", "/api/docs"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["Referrer-Policy"] in ("same-origin", "no-referrer"), path
        assert "Strict-Transport-Security" not in headers, "no HSTS over plain HTTP"


def test_hsts_behind_tls(client: FlaskClient) -> None:
    response = client.get("/admin/login", base_url="https://pulse.example.nhs.uk")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
