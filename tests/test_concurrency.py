"""Many devices rating the same team and shift at once: every acknowledged rating counts exactly once.

The thread tests run on both databases; the gunicorn test runs real worker processes against PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pulse.models import OrgShiftTally, TeamWeekTally
from tests.factories import device_secret, make_org, mix_for, rating_body

# Opens many database connections at once: never beside another such test (pyproject's --dist loadgroup).
pytestmark = pytest.mark.xdist_group("many-connections")

URL = "/api/v1/ratings"
THREADS = 24


def post_together(app, bodies: list[dict], url: str = URL) -> list[int]:  # type: ignore[no-untyped-def]
    """Post every body from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(bodies))

    def post(body: dict) -> int:
        client = app.test_client()
        barrier.wait(timeout=30)
        return client.post(url, json=body).status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def stored(session) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    mix_for(session)
    team = (
        session.scalar(select(func.sum(TeamWeekTally.red + TeamWeekTally.amber + TeamWeekTally.green))) or 0
    )
    contributors = session.scalar(select(func.sum(TeamWeekTally.contributors))) or 0
    org = session.scalar(select(func.sum(OrgShiftTally.red + OrgShiftTally.amber + OrgShiftTally.green))) or 0
    return team, contributors, org


def test_parallel_ratings_for_one_team_and_shift_are_all_counted(app, session) -> None:
    org = make_org(session, headcount=THREADS)
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


def test_parallel_kiosk_taps_take_one_and_cool_down_the_rest(app, session, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import enable_kiosk

    org = make_org(session, headcount=THREADS)
    token = enable_kiosk(session, org.team)
    bodies = [
        {"kiosk_token": token, "colour": "amber", "idempotency_key": f"tap-{i:04d}"} for i in range(THREADS)
    ]
    statuses = post_together(app, bodies, "/api/v1/kiosk-ratings")
    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert stored(session) == (1, 1, 1)


def test_parallel_kiosk_taps_never_pass_the_cap(app, session, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import enable_kiosk

    cap = 3
    org = make_org(session, headcount=cap)
    token = enable_kiosk(session, org.team)
    counted = 0
    for round_ in range(cap + 2):  # all at once each round; the clock passes the cooldown between rounds
        bodies = [
            {"kiosk_token": token, "colour": "red", "idempotency_key": f"t-{round_}-{i:04d}"}
            for i in range(8)
        ]
        counted += post_together(app, bodies, "/api/v1/kiosk-ratings").count(201)
        clock.advance(seconds=60)
    assert counted == cap
    assert stored(session) == (cap, cap, cap)


def test_parallel_ratings_never_pass_the_team_headcount_in_a_shift(app, session) -> None:
    """Open mode's cap (docs/anonymity.md A9): however many devices rate one team's shift at once, at most its
    headcount are counted, and each refusal says why."""
    cap = 7
    org = make_org(session, headcount=cap)
    statuses = post_together(app, [rating_body(org.team.join_code) for _ in range(THREADS)])
    assert sorted(statuses) == [201] * cap + [409] * (THREADS - cap)
    assert stored(session) == (cap, cap, cap)


def test_parallel_different_requests_from_one_device_count_once(app, session) -> None:
    org = make_org(session)
    secret = device_secret()
    bodies = [rating_body(org.team.join_code, device_secret=secret) for _ in range(THREADS)]
    statuses = post_together(app, bodies)

    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert stored(session) == (1, 1, 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)  # polling a port that is not open yet; there is nothing to wait on instead
    raise TimeoutError("gunicorn did not start listening")


def http_post(port: int, body: dict) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{URL}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.postgres
def test_parallel_ratings_through_gunicorn_worker_processes(app, session, database_url: str) -> None:
    org = make_org(session, teams=1, headcount=100)  # room for 60 ratings in one shift
    port = free_port()
    env = {**os.environ, "PULSE_DATABASE_URL": database_url, "PULSE_ENV": "test"}
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "3", "--bind", f"127.0.0.1:{port}", "pulse.wsgi:app"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, process)
        bodies = [rating_body(org.team.join_code, "amber") for _ in range(60)]
        retries = bodies[:20]  # the same requests again, as a phone on bad Wi-Fi would resend them
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda b: http_post(port, b), bodies + retries))
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert statuses == [201] * 80
    assert stored(session) == (60, 60, 60)
