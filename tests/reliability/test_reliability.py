"""benchmarks.reliability, short: each acknowledged rating counts once through load, a PostgreSQL restart
and a killed gunicorn worker. Real gunicorn workers and a real PostgreSQL, so only in the PostgreSQL run."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import reliability
from tests.conftest import POSTGRES_URL

# gunicorn workers open many connections: never beside another such test (--dist loadgroup).
pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("many-connections")]


def run(scenario: str, **changes: Any) -> Any:
    """A few seconds of ratings at 150/s on 3 workers; generous timeouts, as CI shares its cores."""
    options = reliability.Options(
        rate=150,
        duration=8,
        workers=3,
        connections=16,
        timeout=20,
        retry_cap=0.5,
        settle=30,
        admin_url=POSTGRES_URL,
        **changes,
    )
    outcome = reliability.run_scenario(scenario, options)
    reliability.print_report(outcome)  # the figures, shown by pytest if the test fails
    return outcome


def assert_counted_once(outcome: Any) -> None:
    result = outcome.result
    assert result.acked > 100
    assert result.unacknowledged == []
    assert outcome.sums == {
        "team_week_tally": result.acked,
        "org_shift_tally": result.acked,
        "contributors": result.acked,
    }
    assert not [k for k in result.outcomes if k.isdigit() and int(k) >= 500 and k != "503"]
    assert result.outcomes["timeout"] == 0
    assert outcome.tracebacks == []
    assert outcome.failures == []


def test_steady_load_counts_every_rating_once_and_answers_only_201() -> None:
    outcome = run("load")

    assert_counted_once(outcome)
    assert set(outcome.result.outcomes) == {"201"}


def test_postgres_restart_answers_503_with_retry_after_and_retries_count_once() -> None:
    if reliability.find_postgres_bin() is None:
        pytest.skip(f"no PostgreSQL server binaries (initdb, pg_ctl) under {reliability.POSTGRES_BIN_GLOB}")
    outcome = run("db-restart", outage=1.5)
    if outcome.skipped:
        pytest.skip(outcome.skipped)

    assert_counted_once(outcome)
    assert outcome.timeline.outage is not None
    assert outcome.result.outcomes["503"] > 0
    assert outcome.result.missing_retry_after == 0
    assert outcome.result.retried > 0
    assert outcome.result.outcomes["connection lost"] == 0


def test_killed_worker_loses_its_rating_and_the_retry_counts_once() -> None:
    outcome = run("worker-kill", kills=1)

    assert_counted_once(outcome)
    assert len(outcome.timeline.kills) == 1  # a worker caught serving a rating, then replaced
    assert outcome.result.outcomes["connection lost"] >= 1
    assert outcome.result.outcomes["503"] == 0
