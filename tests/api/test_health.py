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
