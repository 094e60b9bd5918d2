"""A Pulse app with the dashboard mounted, and a small organisation with published weeks."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import add_week, make_org

WEEKS = [dt.date(2026, 10, 26), dt.date(2026, 11, 2), dt.date(2026, 11, 9)]


@pytest.fixture
def dash_app(site):  # type: ignore[no-untyped-def]
    return site


@pytest.fixture
def seeded(dash_app):  # type: ignore[no-untyped-def]
    """Three closed weeks: team 0 is hidden in the first (3 people), team 2 never rates."""
    session = dash_app.extensions["pulse"].session_factory()
    org = make_org(session, teams=3)
    add_week(session, org, WEEKS[0], {0: (1, 1, 1, 3), 1: (2, 4, 8, 14)})
    add_week(session, org, WEEKS[1], {0: (2, 3, 5, 10), 1: (1, 5, 9, 15)})
    add_week(session, org, WEEKS[2], {0: (4, 4, 4, 12), 1: (3, 3, 9, 15)})
    session.close()
    return org
