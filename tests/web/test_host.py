"""Absolute links (the poster's printed link and QR code, the admin area's rating links) come only from
PULSE_PUBLIC_URL or from a Host in TRUSTED_HOSTS, never from a Host header nobody chose (issue 14,
point 5)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pulse import create_app
from pulse.config import ConfigError, Settings
from tests.factories import make_org

EVIL = "evil.example"


@pytest.fixture
def make(clean_db: Engine, database_url: str) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def build(**settings: Any) -> Flask:
        app = create_app({"database_url": database_url, "dashboard": False, **settings})
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["pulse"].engine.dispose()


def poster(app: Flask, join_code: str, host: str) -> tuple[int, str]:
    response = app.test_client().get(f"/r/{join_code}/poster", headers={"Host": host})
    return response.status_code, response.get_data(as_text=True)


def test_without_a_public_address_a_strange_host_gets_no_poster(make, session: Session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    status, page = poster(make(env="development"), org.team.join_code, EVIL)
    assert status == 400 and f"http://{EVIL}" not in page
    status, page = poster(make(env="development"), org.team.join_code, "127.0.0.1:8050")
    assert status == 200 and f"http://127.0.0.1:8050/r/{org.team.join_code}" in page


def test_with_a_public_address_the_host_header_changes_nothing(make, session: Session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    app = make(env="production", secret_key="k" * 40, public_url="https://pulse.example.nhs.uk", workers=1)
    status, page = poster(app, org.team.join_code, EVIL)
    assert status == 200 and EVIL not in page
    assert f"https://pulse.example.nhs.uk/r/{org.team.join_code}" in page


def test_trusted_hosts_are_answered_and_no_other(make, session: Session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    app = make(
        env="production", secret_key="k" * 40, trusted_hosts="pulse.example.nhs.uk, .trust.nhs.uk", workers=1
    )
    assert poster(app, org.team.join_code, EVIL)[0] == 400
    status, page = poster(app, org.team.join_code, "pulse.example.nhs.uk")
    assert status == 200 and f"http://pulse.example.nhs.uk/r/{org.team.join_code}" in page
    assert poster(app, org.team.join_code, "pulse.trust.nhs.uk")[0] == 200
    api = app.test_client().get("/api/v1/teams", headers={"Host": EVIL})
    assert api.status_code == 400 and api.mimetype == "application/problem+json"


def test_production_refuses_to_start_with_neither() -> None:
    with pytest.raises(ConfigError, match=r"PULSE_PUBLIC_URL.*PULSE_TRUSTED_HOSTS"):
        Settings.from_env({"PULSE_ENV": "production", "PULSE_SECRET_KEY": "k" * 40})


@pytest.mark.parametrize(
    "hosts", ["https://pulse.example.nhs.uk", "pulse example", "pulse.example.nhs.uk:443"]
)
def test_trusted_hosts_are_names_only(hosts: str) -> None:
    with pytest.raises(ConfigError, match="PULSE_TRUSTED_HOSTS"):
        Settings.from_env({"PULSE_TRUSTED_HOSTS": hosts})
