"""The production files (docker-compose.yml, .env.example, gunicorn.conf.py) and gunicorn serving Pulse."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from flask import Flask

from pulse.config import ConfigError, Settings

# Starts servers whose workers open many connections: never beside another such test (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("many-connections")

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    return compose["services"][name]


def command_of(svc: dict[str, Any]) -> list[str]:
    command = svc["command"]
    return command.split() if isinstance(command, str) else list(command)


def healthcheck_text(svc: dict[str, Any]) -> str:
    test = svc["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


def test_compose_has_the_production_services(compose: dict[str, Any]) -> None:
    assert {"db", "migrate", "web", "redis"} <= set(compose["services"])
    assert "profiles" not in service(compose, "redis"), "production needs Redis: it always starts"
    assert service(compose, "web")["depends_on"]["redis"]["condition"] == "service_healthy"
    redis_command = command_of(service(compose, "redis"))
    assert redis_command[redis_command.index("--save") + 1] == "" and "--appendonly" in redis_command


def test_db_is_postgres_16_with_a_healthcheck_and_a_named_volume(compose: dict[str, Any]) -> None:
    db = service(compose, "db")
    assert db["image"] == "postgres:16"
    assert "pg_isready" in healthcheck_text(db)
    assert "pgdata" in compose["volumes"]
    assert any(str(v).startswith("pgdata:/var/lib/postgresql/data") for v in db["volumes"])


def test_migrate_upgrades_once_the_database_is_healthy(compose: dict[str, Any]) -> None:
    migrate = service(compose, "migrate")
    assert command_of(migrate) == ["alembic", "upgrade", "head"]
    assert "build" in migrate
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate.get("restart", "no") == "no", "a one-shot job must not be restarted"


def test_web_runs_gunicorn_after_a_successful_migration(compose: dict[str, Any]) -> None:
    web = service(compose, "web")
    command = command_of(web)
    assert command[0] == "gunicorn"
    assert command[-1] == "pulse.wsgi:app"
    assert command[command.index("--workers") + 1] == "${PULSE_WORKERS:-4}"
    assert command[command.index("--config") + 1] == "gunicorn.conf.py"
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert web["image"] == service(compose, "migrate")["image"], "migrate and web must run the same build"
    assert "/readyz" in healthcheck_text(web)
    assert "ports" not in web, "clients reach gunicorn only through the proxy"
    assert web["environment"]["PULSE_PROXY_HOPS"] == "1"


def test_the_proxy_is_nginx_with_the_shipped_configuration_and_is_what_is_published(
    compose: dict[str, Any],
) -> None:
    proxy = service(compose, "proxy")
    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == ["${PULSE_PUBLISH:-127.0.0.1:8050}:8080"]
    assert proxy["environment"] == {"PULSE_UPSTREAM": "web:8050", "PULSE_PROXY_LISTEN": "8080"}
    assert proxy["volumes"] == [
        "./deploy/nginx/pulse.conf.template:/etc/nginx/templates/pulse.conf.template:ro"
    ]
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    assert (ROOT / "deploy" / "nginx" / "pulse.conf.template").is_file()


def test_one_maintainer_alone_holds_the_inbox_keys(compose: dict[str, Any]) -> None:
    """The sealed inbox's private keys live on a volume of the maintainer's own: the web servers, which
    only seal ratings, never mount it, and the database never holds them (docs/anonymity.md A10-A12)."""
    maintain = service(compose, "maintain")
    assert command_of(maintain) == ["pulse", "maintain"]
    assert maintain["image"] == service(compose, "web")["image"]
    key_dir = maintain["environment"]["PULSE_INBOX_KEY_DIR"]
    assert f"inbox-keys:{key_dir}" in maintain["volumes"] and "inbox-keys" in compose["volumes"]
    assert "scale" not in maintain and "deploy" not in maintain, "exactly one maintainer"
    for name in ("web", "db", "migrate"):
        mounts = [str(v) for v in service(compose, name).get("volumes", [])]
        assert not any("inbox-keys" in m for m in mounts), f"{name} must not see the inbox keys"
    assert (
        maintain["environment"]["PULSE_DATABASE_URL"]
        == service(compose, "web")["environment"]["PULSE_DATABASE_URL"]
    )


def test_postgres_deletes_old_wal_segments_instead_of_reusing_them(compose: dict[str, Any]) -> None:
    assert "wal_recycle=off" in command_of(service(compose, "db"))


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assigned = set(re.findall(r"^([A-Z0-9_]+)=", text, flags=re.MULTILINE))
    wanted = {f"PULSE_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    assert wanted - assigned == set()
    assert {"PULSE_WORKERS", "POSTGRES_PASSWORD"} <= assigned
    assert re.search(r"^PULSE_ENV=production$", text, flags=re.MULTILINE)


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_a_copied_env_example_starts_nothing_until_its_secrets_are_set() -> None:
    """docker compose refuses to start while a ${NAME:?...} variable is empty, but takes any placeholder
    (issue 14: POSTGRES_PASSWORD=replace-me was accepted): every such variable is empty in .env.example, and
    so is Pulse's secret key, which production refuses to start without."""
    compose_text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", compose_text))
    assert "POSTGRES_PASSWORD" in required
    values = env_example()
    assert {name: values.get(name) for name in required | {"PULSE_SECRET_KEY"}} == dict.fromkeys(
        required | {"PULSE_SECRET_KEY"}, ""
    )
    assert "replace-me" not in (ROOT / ".env.example").read_text(encoding="utf-8")


def test_env_example_is_valid_but_for_the_placeholder_secret() -> None:
    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    with pytest.raises(ConfigError, match="PULSE_SECRET_KEY"):
        Settings.from_env(values)
    settings = Settings.from_env({**values, "PULSE_SECRET_KEY": secrets.token_urlsafe(48)})
    assert settings.env == "production"


def test_gunicorn_config_writes_no_access_log(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PULSE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PULSE_WORKERS", "3")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["accesslog"] is None
    assert config["disable_redirect_access_to_syslog"] is True
    assert config["control_socket_disable"] is True
    assert config["workers"] == 3
    assert config["bind"] == "127.0.0.1:8050"


def test_preloaded_workers_let_go_of_the_masters_pooled_connections(app) -> None:  # type: ignore[no-untyped-def]
    """gunicorn preloads the app and forks workers from it; post_fork empties the pools without closing
    what they held (closing would end the parent's connection too)."""
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["preload_app"] is True
    engine = app.extensions["pulse"].engine
    with engine.connect() as conn:  # one connection, returned to the pool
        held = conn.connection.dbapi_connection
        conn.exec_driver_sql("SELECT 1")
    assert engine.pool.checkedin() == 1

    server = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app))
    config["post_fork"](server, None)

    assert engine.pool.checkedin() == 0
    held.cursor().execute("SELECT 1")  # still open: it was let go of, not closed
    held.close()
    # The same settings serve the benchmarks' minimal Flask app, which has no database to let go of.
    config["post_fork"](SimpleNamespace(app=SimpleNamespace(wsgi=lambda: Flask("hello"))), None)


# --- gunicorn, for real ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def interpolate(word: str, env: Mapping[str, str]) -> str:
    """Compose's ${NAME:-default}, for the words of a command."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), word)


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str]:
    return migrated_server_env(tmp_path)


def migrated_server_env(tmp_path: Path) -> dict[str, str]:
    """Production settings for one gunicorn worker on a free port, with a migrated SQLite database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env.update(
        PULSE_ENV="production",
        PULSE_SECRET_KEY=secrets.token_urlsafe(36),
        PULSE_DATA_DIR=str(tmp_path / "data"),
        PULSE_DATABASE_URL=f"sqlite:///{tmp_path / 'pulse.db'}",
        PULSE_HOST="127.0.0.1",
        PULSE_PORT=str(free_port()),
        PULSE_WORKERS="1",
        PULSE_PUBLIC_URL="https://pulse.example.nhs.uk",
    )
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    # One round of the compose `maintain` service's command: it opens the sealed inbox for ratings.
    subprocess.run(
        [sys.executable, "-m", "pulse", "maintain", "--once"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return env


class Server:
    def __init__(self, command: list[str], env: dict[str, str], log_dir: Path):
        self.port = int(env["PULSE_PORT"])
        self.out_path, self.err_path = log_dir / "gunicorn.out", log_dir / "gunicorn.err"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True
            )

    def output(self) -> str:
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                pass
            try:  # doubles as the pause between attempts, and notices a server that died
                code = self.proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"gunicorn exited with {code} before listening:\n{self.output()}")
        pytest.fail(f"gunicorn did not listen within {START_TIMEOUT} s:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def request(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, str, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers.get_content_type(), response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get_content_type(), error.read()


@pytest.fixture
def gunicorn_command(compose: dict[str, Any], server_env: dict[str, str]) -> list[str]:
    return compose_gunicorn_command(compose, server_env)


def compose_gunicorn_command(compose: dict[str, Any], server_env: dict[str, str]) -> list[str]:
    """The web service's command from docker-compose.yml, run with this interpreter's gunicorn."""
    words = [interpolate(word, server_env) for word in command_of(service(compose, "web"))]
    assert words[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *words[1:]]


@pytest.fixture
def server(gunicorn_command: list[str], server_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    running = Server(gunicorn_command, server_env, tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_compose_gunicorn_command_serves_pulse_without_an_access_log(server: Server) -> None:
    server.wait_until_listening()

    status, content_type, body = server.request("/api/openapi.json")
    assert status == 200
    assert content_type == "application/json"
    assert "/api/v1/ratings" in json.loads(body)["paths"]
    # What the compose healthcheck asks: up, and migrated to this version.
    status, _, body = server.request("/readyz")
    assert status == 200 and json.loads(body)["status"] == "ok"

    # The rating path itself, against the migrated database: an unknown team is a 404 problem, not a 500.
    rating = {"join_code": "no-such-team", "colour": "green", "device_secret": secrets.token_urlsafe(32)}
    status, content_type, _ = server.request("/api/v1/ratings", {**rating, "idempotency_key": "k" * 16})
    assert (status, content_type) == (404, "application/problem+json")

    server.stop()
    output = server.output()
    assert "Booting worker" in output, "gunicorn's own log should still be there"
    assert "Control socket" not in output
    assert "/api/openapi.json" not in output
    assert "/api/v1/ratings" not in output
    assert not re.search(r'"(GET|POST) ', output), output


def test_gunicorn_refuses_to_start_with_an_access_log(
    gunicorn_command: list[str], server_env: dict[str, str], tmp_path: Path
) -> None:
    command = [*gunicorn_command[:-1], "--access-logfile", "-", gunicorn_command[-1]]
    refused = Server(command, server_env, tmp_path)
    try:
        code = refused.proc.wait(timeout=START_TIMEOUT)
    finally:
        refused.stop()
    assert code != 0
    assert "must not write an access log" in refused.output()
