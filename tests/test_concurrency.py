"""Many devices rating the same team and shift at once, on a real PostgreSQL: every acknowledged rating counts
exactly once."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from pulse.models import OrgShiftTally, TeamWeekTally
from tests.factories import device_secret, make_org, rating_body

pytestmark = pytest.mark.postgres
URL = "/api/v1/ratings"
THREADS = 24


def post_together(app, bodies: list[dict]) -> list[int]:  # type: ignore[no-untyped-def]
    """Post every body from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(bodies))

    def post(body: dict) -> int:
        client = app.test_client()
        barrier.wait(timeout=30)
        return client.post(URL, json=body).status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def stored(session) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    session.expire_all()
    team = session.scalar(select(func.sum(TeamWeekTally.red + TeamWeekTally.amber + TeamWeekTally.green))) or 0
    contributors = session.scalar(select(func.sum(TeamWeekTally.contributors))) or 0
    org = session.scalar(select(func.sum(OrgShiftTally.red + OrgShiftTally.amber + OrgShiftTally.green))) or 0
    return team, contributors, org


def test_parallel_ratings_for_one_team_and_shift_are_all_counted(app, session) -> None:
    org = make_org(session)
    colours = ["red", "amber", "green"]
    bodies = [rating_body(org.team.join_code, colours[i % 3]) for i in range(THREADS)]
    statuses = post_together(app, bodies)

    assert statuses == [201] * THREADS
    assert stored(session) == (THREADS, THREADS, THREADS)
    row = session.get(TeamWeekTally, (org.team.id, dt.date(2026, 11, 16)))
    assert (row.red, row.amber, row.green) == (THREADS // 3,) * 3


def test_parallel_retries_of_one_request_count_once(app, session) -> None:
    org = make_org(session)
    body = rating_body(org.team.join_code)
    statuses = post_together(app, [dict(body) for _ in range(THREADS)])

    assert statuses == [201] * THREADS
    assert stored(session) == (1, 1, 1)


def test_parallel_different_requests_from_one_device_count_once(app, session) -> None:
    org = make_org(session)
    secret = device_secret()
    bodies = [rating_body(org.team.join_code, device_secret=secret) for _ in range(THREADS)]
    statuses = post_together(app, bodies)

    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert stored(session) == (1, 1, 1)
