"""Signing in and out: argon2 passwords, clear messages, rate-limited failures, sessions that end when the
password changes, no open redirect, safe cookies, and CSRF on every form."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.admin.limits import FIRST_PAUSE
from pulse.models import AuditEvent, Team, User
from tests.admin.conftest import PASSWORD, People, csrf_token, sign_in


def post_login(client: FlaskClient, email: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    data = {"email": email, "password": password, "csrf_token": csrf_token(client), **extra}
    return client.post("/admin/login", data=data)


def test_the_password_is_stored_as_argon2id(people: People, session: Session) -> None:
    stored = session.scalar(select(User.password_hash).where(User.id == people.admin.id))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_sign_in_then_out(client: FlaskClient, people: People) -> None:
    assert client.get("/admin/").status_code == 401
    response = post_login(client, "Manager@Example.NHS.uk ", PASSWORD)  # email case and spaces do not matter
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    home = client.get("/admin/").get_data(as_text=True)
    assert "Mo Manager" in home and "Emergency Department" in home and "Maternity" not in home
    out = client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert out.status_code == 303
    assert client.get("/admin/").status_code == 401


def test_a_wrong_password_or_unknown_email_gets_the_same_plain_message(
    client: FlaskClient, people: People
) -> None:
    for email, password in [
        ("manager@example.nhs.uk", "not the password"),
        ("nobody@example.nhs.uk", PASSWORD),
    ]:
        response = post_login(client, email, password)
        assert response.status_code == 401
        assert "The email address or password is not right." in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 401


def test_failed_sign_ins_are_limited_per_account_and_client_with_a_clear_message(
    client: FlaskClient, people: People
) -> None:
    for _ in range(5):
        assert post_login(client, people.manager.email, "wrong password 1").status_code == 401
    locked = post_login(client, people.manager.email, PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    # The pause began at the fifth failure, on the real clock: on a busy machine a second or two may have
    # passed since, and Retry-After counts them off.
    assert FIRST_PAUSE - 30 <= int(locked.headers["Retry-After"]) <= FIRST_PAUSE
    page = locked.get_data(as_text=True)
    assert "too many failed attempts" in page and "paused for 1 minute" in page
    # Another account from the same address is not locked by these failures.
    assert post_login(client, people.admin.email, PASSWORD).status_code == 303


def test_successful_sign_ins_do_not_count_towards_the_limit(client: FlaskClient, people: People) -> None:
    for _ in range(8):
        assert post_login(client, people.manager.email, PASSWORD).status_code == 303
        client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})


def test_changing_the_password_ends_every_other_session(app: Flask, people: People) -> None:
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, people.manager.email)
    sign_in(laptop, people.manager.email)
    new = "an entirely new passphrase"
    changed = laptop.post(
        "/admin/account",
        data={
            "current": PASSWORD,
            "new": new,
            "confirm": new,
            "csrf_token": csrf_token(laptop, "/admin/account"),
        },
    )
    assert changed.status_code == 200 and "Your password has been changed" in changed.get_data(as_text=True)
    assert laptop.get("/admin/").status_code == 200, "the session that changed it carries on"
    assert phone.get("/admin/").status_code == 401, "every other session has ended"
    assert post_login(app.test_client(), people.manager.email, PASSWORD).status_code == 401
    assert post_login(app.test_client(), people.manager.email, new).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field"),
    [
        ("wrong current password", "a fine new passphrase", "a fine new passphrase", "current"),
        (PASSWORD, "short", "short", "new"),
        (PASSWORD, "a fine new passphrase", "another passphrase", "confirm"),
    ],
)
def test_a_refused_password_change_says_why(
    client: FlaskClient, people: People, current: str, new: str, confirm: str, field: str
) -> None:
    sign_in(client, people.manager.email)
    data = {
        "current": current,
        "new": new,
        "confirm": confirm,
        "csrf_token": csrf_token(client, "/admin/account"),
    }
    response = client.post("/admin/account", data=data)
    assert response.status_code == 422
    assert f'href="#{field}"' in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 200, "still signed in with the old password"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\\\evil.example", "/dashboard/"]
)
def test_sign_in_never_redirects_off_the_admin_area(client: FlaskClient, people: People, target: str) -> None:
    response = post_login(client, people.admin.email, PASSWORD, next=target)
    assert response.headers["Location"] == "/admin/"


def test_sign_in_returns_to_the_admin_page_asked_for(client: FlaskClient, people: People) -> None:
    target = f"/admin/teams/{people.org.team.id}"
    assert post_login(client, people.admin.email, PASSWORD, next=target).headers["Location"] == target


def test_session_cookie_flags(client: FlaskClient, people: People) -> None:
    response = post_login(client, people.admin.email, PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("pulse_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cookies_are_secure_in_production(database_url: str, clean_db: object) -> None:
    from pulse import create_app

    app = create_app(
        {
            "database_url": database_url,
            "env": "production",
            "secret_key": "x" * 40,
            "public_url": "https://pulse.example.nhs.uk",
            "ratelimit_storage_url": "redis://127.0.0.1:6379/0",
            "dashboard": False,
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True


def test_a_forged_cross_site_form_is_refused(client: FlaskClient, people: People, session: Session) -> None:
    """Another site can make the browser post a form with its cookies, but cannot read the token."""
    sign_in(client, people.manager.email)
    team = people.org.team
    forged = client.post(
        f"/admin/teams/{team.id}",
        data={"name": "Hijacked", "headcount": "1", "active": "true"},
        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/page"},
    )
    assert forged.status_code == 400
    assert "This form has expired" in forged.get_data(as_text=True)
    stolen = client.post(
        f"/admin/teams/{team.id}",
        data={"name": "Hijacked", "headcount": "1", "active": "true", "csrf_token": "made-up-token"},
    )
    assert stolen.status_code == 400
    session.rollback()
    assert session.scalar(select(Team.name).where(Team.id == team.id)) == team.name
    assert session.scalars(select(AuditEvent)).all() == []


def test_a_token_from_another_session_is_refused(app: Flask, people: People, session: Session) -> None:
    attacker, victim = app.test_client(), app.test_client()
    sign_in(attacker, people.other_manager.email)
    sign_in(victim, people.manager.email)
    token = csrf_token(attacker, "/admin/")
    response = victim.post(f"/admin/teams/{people.org.team.id}/join-code", data={"csrf_token": token})
    assert response.status_code == 400
