"""Failed sign-ins pause the account *from that client*, with exponential back-off: a stranger, elsewhere or
on the same network, cannot lock someone out; and production shares the counters between workers (issue 14,
point 7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from pulse import create_app
from pulse.admin.limits import FIRST_PAUSE, FREE_FAILURES, MAX_PAUSE, SignInAttempts, limiter, pause_after
from pulse.config import ConfigError, Settings
from tests.admin.conftest import PASSWORD, People, csrf_token
from tests.conftest import FakeClock

STRANGER, OWNER = "203.0.113.66", "198.51.100.7"
WRONG = "not the password at all"


def browser(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client: FlaskClient, email: str, password: str) -> int:
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/admin/login", data=data).status_code


def retry_after(client: FlaskClient, email: str) -> int:
    response = client.post(
        "/admin/login", data={"email": email, "password": WRONG, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 429
    return int(response.headers["Retry-After"])


def end_pause(app: Flask, email: str, address: str) -> None:
    """What waiting out the pause does (the counters expire on the real clock; a test does not wait)."""
    with app.test_request_context("/admin/login", method="POST", environ_base={"REMOTE_ADDR": address}):
        limiter.storage.clear(SignInAttempts(email).pause_key)


def test_a_stranger_elsewhere_cannot_lock_the_owner_out(app: Flask, people: People) -> None:
    stranger = browser(app, STRANGER)
    for _ in range(FREE_FAILURES):
        assert attempt(stranger, people.manager.email, WRONG) == 401
    assert attempt(stranger, people.manager.email, PASSWORD) == 429, "the stranger is paused..."
    assert attempt(browser(app, OWNER), people.manager.email, PASSWORD) == 303, "...the owner is not"


def test_a_stranger_on_the_same_network_cannot_lock_out_a_browser_the_account_knows(
    app: Flask, people: People
) -> None:
    owner = browser(app, OWNER)
    assert attempt(owner, people.manager.email, PASSWORD) == 303  # this browser becomes a known device
    owner.post("/admin/logout", data={"csrf_token": csrf_token(owner, "/admin/")})
    colleague = browser(app, OWNER)  # the same hospital address, another browser
    for _ in range(FREE_FAILURES + 15):
        attempt(colleague, people.manager.email, WRONG)
    assert attempt(colleague, people.manager.email, PASSWORD) == 429
    assert attempt(owner, people.manager.email, PASSWORD) == 303


def test_each_failure_past_the_free_ones_doubles_the_pause(app: Flask, people: People) -> None:
    stranger = browser(app, STRANGER)
    for _ in range(FREE_FAILURES):
        attempt(stranger, people.manager.email, WRONG)
    waits = [retry_after(stranger, people.manager.email)]
    for _ in range(3):
        end_pause(app, people.manager.email, STRANGER)
        assert attempt(stranger, people.manager.email, WRONG) == 401
        waits.append(retry_after(stranger, people.manager.email))
    # Real seconds pass between the failure and the answer that reports it: allow a few on a busy machine.
    for wait, expected in zip(
        waits, [FIRST_PAUSE, 2 * FIRST_PAUSE, 4 * FIRST_PAUSE, 8 * FIRST_PAUSE], strict=True
    ):
        assert expected - 10 <= wait <= expected


def test_the_pause_grows_to_an_hour_at_most() -> None:
    assert [pause_after(n) for n in range(1, FREE_FAILURES)] == [0] * (FREE_FAILURES - 1)
    assert [pause_after(FREE_FAILURES + i) for i in range(4)] == [60, 120, 240, 480]
    assert pause_after(FREE_FAILURES + 10) == pause_after(10_000) == MAX_PAUSE == 3600


def test_signing_in_clears_the_failures(app: Flask, people: People) -> None:
    owner = browser(app, OWNER)
    for _ in range(FREE_FAILURES - 1):
        assert attempt(owner, people.manager.email, WRONG) == 401
    assert attempt(owner, people.manager.email, PASSWORD) == 303
    owner.post("/admin/logout", data={"csrf_token": csrf_token(owner, "/admin/")})
    for _ in range(FREE_FAILURES - 1):
        assert attempt(owner, people.manager.email, WRONG) == 401
    assert attempt(owner, people.manager.email, PASSWORD) == 303


def test_production_refuses_counters_that_each_worker_keeps_for_itself() -> None:
    base = {"PULSE_ENV": "production", "PULSE_SECRET_KEY": "k" * 40, "PULSE_PUBLIC_URL": "https://p.example"}
    with pytest.raises(ConfigError, match="PULSE_RATELIMIT_STORAGE_URL"):
        Settings.from_env({**base, "PULSE_WORKERS": "4"})
    assert Settings.from_env({**base, "PULSE_WORKERS": "1"}).ratelimit_storage_url == "memory://"
    shared = {**base, "PULSE_WORKERS": "4", "PULSE_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0"}
    assert Settings.from_env(shared).workers == 4


@pytest.fixture
def two_workers(clean_db: Engine, database_url: str, clock: FakeClock) -> Iterator[list[Flask]]:
    """Two app processes' worth of Pulse sharing one Redis, as two gunicorn workers do."""
    settings = {"database_url": database_url, "env": "test", "now": clock, "dashboard": False}
    apps = [create_app({**settings, "ratelimit_storage_url": "redis://127.0.0.1:6379/0"}) for _ in range(2)]
    yield apps
    for app in apps:
        app.extensions["pulse"].engine.dispose()


def test_workers_sharing_redis_count_failures_together(two_workers: list[Flask], people: People) -> None:
    first, second = (browser(app, STRANGER) for app in two_workers)
    for i in range(FREE_FAILURES):
        assert attempt([first, second][i % 2], people.manager.email, WRONG) == 401
    assert attempt(first, people.manager.email, PASSWORD) == 429
    assert attempt(second, people.manager.email, PASSWORD) == 429
    end_pause(two_workers[0], people.manager.email, STRANGER)
    assert attempt(second, people.manager.email, PASSWORD) == 303
