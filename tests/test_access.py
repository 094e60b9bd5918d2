"""Who may view the figures (the organisation's setting), and the security headers on every answer."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import DashboardAccess
from pulse.services.organisation import set_dashboard_access
from tests.conftest import FakeClock
from tests.factories import make_org

PASSPHRASE = "a perfectly good passphrase"

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


def device_payload(app: Flask, cookie: str) -> list[object]:
    value = cookie.split(";")[0].split("=", 1)[1]
    return URLSafeSerializer(app.config["SECRET_KEY"], salt="pulse-dashboard-device").loads(value)


def test_a_device_that_opened_its_team_link_may_view(
    app: Flask, client: FlaskClient, session: Session, members_only: None
) -> None:
    org = make_org(session)
    opened = client.get(f"/r/{org.team.join_code}")
    cookie = opened.headers["Set-Cookie"]
    assert cookie.startswith("pulse_dashboard_device=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=2592000" in cookie, "30 days (PULSE_DASHBOARD_DEVICE_DAYS), not 400"
    device, day, generation = device_payload(app, cookie)
    # A random id, the day, the generation: nothing about the team, the person or the time of day.
    assert isinstance(device, str) and len(device) >= 20 and isinstance(day, int) and generation == 1
    assert org.team.join_code not in cookie
    assert client.get(FIGURES).status_code == 200
    assert client.get("/dashboard/").status_code == 200


def test_every_device_gets_a_cookie_of_its_own(app: Flask, session: Session, members_only: None) -> None:
    org = make_org(session)
    cookies = {app.test_client().get(f"/r/{org.team.join_code}").headers["Set-Cookie"] for _ in range(3)}
    assert len(cookies) == 3, "one value shared by every device could be copied to any other"


def test_a_device_may_view_for_thirty_days_after_it_last_opened_the_link(
    client: FlaskClient, session: Session, members_only: None, clock: FakeClock
) -> None:
    org = make_org(session)
    client.get(f"/r/{org.team.join_code}")
    clock.advance(days=29)
    assert client.get(FIGURES).status_code == 200
    client.get(f"/r/{org.team.join_code}")  # rating renews it
    clock.advance(days=29)
    assert client.get(FIGURES).status_code == 200
    clock.advance(days=1)
    assert client.get(FIGURES).status_code == 401


def test_an_administrator_can_sign_every_device_out(
    app: Flask, client: FlaskClient, session: Session, members_only: None
) -> None:
    from pulse.models import AuditEvent, Role
    from pulse.services import accounts
    from tests.admin.conftest import csrf_token, sign_in

    org = make_org(session)
    accounts.create_user(session, email="a@example.nhs.uk", name="A", role=Role.ADMIN, password=PASSPHRASE)
    session.commit()
    client.get(f"/r/{org.team.join_code}")
    assert client.get(FIGURES).status_code == 200

    admin = app.test_client()
    sign_in(admin, "a@example.nhs.uk", PASSPHRASE)
    revoked = admin.post("/admin/dashboard-devices/revoke", data={"csrf_token": csrf_token(admin, "/admin/")})
    assert revoked.status_code == 303

    assert client.get(FIGURES).status_code == 401
    assert client.get("/dashboard/").status_code == 401
    client.get(f"/r/{org.team.join_code}")  # opening the link again lets it back in
    assert client.get(FIGURES).status_code == 200
    session.rollback()
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["settings.dashboard_devices_revoked"]


def test_the_former_shared_cookie_lets_nobody_in(
    app: Flask, client: FlaskClient, session: Session, members_only: None
) -> None:
    former = URLSafeSerializer(app.config["SECRET_KEY"], salt="pulse-joined").dumps("joined")
    client.set_cookie("pulse_joined", former)
    assert client.get(FIGURES).status_code == 401
    client.set_cookie("pulse_dashboard_device", "joined")
    assert client.get(FIGURES).status_code == 401


def test_a_signed_in_manager_may_view(app: Flask, session: Session, members_only: None) -> None:
    from pulse.models import Role
    from pulse.services import accounts
    from tests.admin.conftest import sign_in

    accounts.create_user(session, email="m@example.nhs.uk", name="M", role=Role.MANAGER, password=PASSPHRASE)
    session.commit()
    client = app.test_client()
    sign_in(client, "m@example.nhs.uk", PASSPHRASE)
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
