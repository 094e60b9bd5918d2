"""/healthz and /readyz: up and answering, and migrated to the version this code expects."""

from __future__ import annotations

from pathlib import Path

from pulse import create_app, migrate
from pulse.db import make_engine


def test_healthy_and_ready(client) -> None:  # type: ignore[no-untyped-def]
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json() == {"status": "ok", "database": "ok"}
    assert health.headers["Cache-Control"] == "no-store"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["migration"] == ready.get_json()["expected"] == migrate.head_revision()


def test_a_maintainer_that_never_ran_or_falls_behind_makes_pulse_degraded(make_app, clock) -> None:  # type: ignore[no-untyped-def]
    """Ratings wait, sealed, for the maintainer: /readyz says so, still 200, so the load balancer keeps
    sending ratings while monitoring pages someone."""
    from sqlalchemy import text

    app = make_app()
    client = app.test_client()
    assert client.get("/readyz").get_json()["status"] == "ok"
    with app.extensions["pulse"].engine.begin() as connection:
        connection.execute(text("DELETE FROM inbox_epoch"))
    never = client.get("/readyz")
    assert never.status_code == 200
    assert (never.get_json()["status"], never.get_json()["mixer"]) == ("degraded", "never ran")

    from tests.conftest import open_inbox
    from tests.factories import make_org, rating_body

    open_inbox(app)
    with app.extensions["pulse"].session_factory() as session:
        org = make_org(session)
        assert client.post("/api/v1/ratings", json=rating_body(org.team.join_code)).status_code == 201
    assert client.get("/readyz").get_json()["status"] == "ok", "a rating waits a while as a matter of course"
    clock.advance(minutes=3 * app.extensions["pulse"].settings.mix_minutes + 2)
    behind = client.get("/readyz").get_json()
    assert (behind["status"], behind["mixer"]) == ("degraded", "behind")


def test_a_database_behind_the_code_is_not_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine, "0004_accounts")
    engine.dispose()
    app = create_app({"database_url": url, "dashboard": False})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200, "alive: the database answers"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
    assert ready.get_json()["migration"] == "0004_accounts"
    assert "alembic upgrade head" in ready.get_json()["database"]


def test_an_unreachable_database_is_503_not_500(tmp_path: Path) -> None:
    app = create_app(
        {"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none", "dashboard": False, "env": "test"}
    )
    client = app.test_client()
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.get_json()["database"] == "unreachable"


def test_an_outage_is_logged_once_in_a_while_not_per_request(caplog) -> None:  # type: ignore[no-untyped-def]
    from pulse.api.problems import OutageLog

    now = [100.0]
    outage = OutageLog(every=10, clock=lambda: now[0])
    with caplog.at_level("WARNING", logger="pulse.api.problems"):
        for _ in range(5):
            outage.record("OperationalError")
        now[0] += 10
        outage.record("OperationalError")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "database unavailable: OperationalError",
        "database unavailable: OperationalError; 4 more request(s) answered 503 since the last warning",
    ]
