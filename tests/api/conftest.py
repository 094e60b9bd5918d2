"""Fixtures for the API tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine

from pulse import create_app
from tests.conftest import FakeClock, open_inbox


@pytest.fixture
def make_app(clean_db: Engine, database_url: str, clock: FakeClock) -> Iterator[Callable[..., Flask]]:
    """Apps as the `app` fixture builds them, with settings of the test's choosing."""
    apps: list[Flask] = []

    def build(**settings: Any) -> Flask:
        base = {"database_url": database_url, "env": "test", "now": clock, "dashboard": False}
        app = create_app({**base, "min_group_size": 5, **settings})
        app.config["TESTING"] = True
        open_inbox(app)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["pulse"].engine.dispose()
