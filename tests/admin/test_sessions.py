"""Sessions end for real: signing out ends every copy of the cookie, a session has an absolute and an idle
limit checked on the server, and under HTTPS its cookie carries the __Host- prefix (issue 14, points 2, 7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from pulse import create_app
from tests.admin.conftest import PASSWORD, People, csrf_token, sign_in
from tests.conftest import FakeClock


def session_cookie(client: FlaskClient, name: str = "pulse_session") -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def test_a_copy_of_the_cookie_taken_before_signing_out_opens_nothing_after(
    app: Flask, client: FlaskClient, people: People
) -> None:
    sign_in(client, people.admin.email)
    copied = session_cookie(client)
    thief = app.test_client()
    thief.set_cookie("pulse_session", copied)
    assert thief.get("/admin/").status_code == 200

    out = client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert out.status_code == 303

    assert thief.get("/admin/").status_code == 401
    assert thief.get("/admin/users").status_code == 401
    sign_in(client, people.admin.email)  # signing in again starts a new session that works
    assert client.get("/admin/").status_code == 200


def test_a_session_ends_twelve_hours_after_signing_in_however_busy(
    client: FlaskClient, people: People, clock: FakeClock
) -> None:
    sign_in(client, people.manager.email)
    for _ in range(14):  # a request every 50 minutes: never idle, for 11 h 40 min
        clock.advance(minutes=50)
        assert client.get("/admin/").status_code == 200
    clock.advance(minutes=20)  # 12 hours since signing in
    assert client.get("/admin/").status_code == 401


def test_a_session_ends_after_an_hour_unused(client: FlaskClient, people: People, clock: FakeClock) -> None:
    sign_in(client, people.manager.email)
    clock.advance(minutes=59)
    assert client.get("/admin/").status_code == 200, "used within the hour: still signed in"
    clock.advance(minutes=60)
    assert client.get("/admin/").status_code == 401


def test_the_limits_are_settings(
    clean_db: Engine, database_url: str, clock: FakeClock, people: People
) -> None:
    app = create_app(
        {
            "database_url": database_url,
            "env": "test",
            "now": clock,
            "dashboard": False,
            "session_hours": 2,
            "session_idle_minutes": 10,
        }
    )
    client = app.test_client()
    sign_in(client, people.manager.email)
    clock.advance(minutes=11)
    assert client.get("/admin/").status_code == 401
    app.extensions["pulse"].engine.dispose()


@pytest.fixture
def https_client(clean_db: Engine, database_url: str, clock: FakeClock) -> Iterator[FlaskClient]:
    app = create_app(
        {
            "database_url": database_url,
            "env": "test",
            "now": clock,
            "dashboard": False,
            "public_url": "https://pulse.example.nhs.uk",
        }
    )
    yield app.test_client()
    app.extensions["pulse"].engine.dispose()


def test_under_https_the_session_cookie_has_the_host_prefix(
    https_client: FlaskClient, people: People
) -> None:
    base = "https://pulse.example.nhs.uk"
    page = https_client.get("/admin/login", base_url=base)
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    response = https_client.post(
        "/admin/login",
        base_url=base,
        data={"email": people.admin.email, "password": PASSWORD, "csrf_token": token},
        headers={"Referer": f"{base}/admin/login"},
    )
    assert response.status_code == 303
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "pulse_session=" in c)
    assert cookie.startswith("__Host-pulse_session=")
    attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert "secure" in attributes and "path=/" in attributes
    assert not any(part.startswith("domain=") for part in attributes)
    assert https_client.get("/admin/", base_url=base).status_code == 200
