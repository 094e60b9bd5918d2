"""The reverse proxy Pulse runs behind (deploy/nginx/pulse.conf.template), run natively with gunicorn as
docker-compose.yml runs them: slow, half-sent requests hold gunicorn's sync workers when they reach it, and
hold nothing when nginx stands in front (issue 14, point 10). nginx writes no access log for any of it.

Debian's nginx is needed: .ci/run installs it, and in CI (CI=true) a missing nginx fails this test instead of
skipping it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.test_deployment import (
    ROOT,
    START_TIMEOUT,
    Server,
    compose_gunicorn_command,
    free_port,
    migrated_server_env,
)

# Starts servers whose workers open many connections: never beside another such test (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("many-connections")

TEMPLATE = ROOT / "deploy" / "nginx" / "pulse.conf.template"
SLOW_CLIENTS = 120
# What a slow client has sent when it stops: half a header block, or whole headers and half a body.
HALF_HEADERS = b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow"
HALF_BODY = (
    b"POST /api/v1/ratings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b'Content-Length: 400\r\n\r\n{"join_code": "abc'
)


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: .ci/run installs Debian's nginx for this test", pytrace=False)
        pytest.skip("needs nginx (apt-get install nginx)")
    return found


class Nginx:
    """The shipped server block, filled in as the nginx image fills in templates, inside a minimal main
    configuration of the kind a distribution ships: including its http-level access log, which the server
    block must switch off."""

    def __init__(self, upstream_port: int, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.access_log = folder / "access.log"
        self.error_path = folder / "nginx.err"
        server_block = (
            TEMPLATE.read_text(encoding="utf-8")
            .replace("${PULSE_UPSTREAM}", f"127.0.0.1:{upstream_port}")
            .replace("${PULSE_PROXY_LISTEN}", f"127.0.0.1:{self.port}")
        )
        assert "${" not in server_block, "the template has a variable this test does not fill in"
        (folder / "pulse.conf").write_text(server_block, encoding="utf-8")
        temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir()
        main = f"""
            {"user root;" if os.geteuid() == 0 else ""}
            worker_processes 1;
            pid {folder / "nginx.pid"};
            error_log stderr notice;
            events {{ worker_connections 1024; }}
            http {{
                access_log {self.access_log};
                client_body_temp_path {temp["body"]};
                proxy_temp_path {temp["proxy"]};
                fastcgi_temp_path {temp["fastcgi"]};
                uwsgi_temp_path {temp["uwsgi"]};
                scgi_temp_path {temp["scgi"]};
                include {folder / "pulse.conf"};
            }}
        """
        (folder / "nginx.conf").write_text(main, encoding="utf-8")
        command = [nginx_binary(), "-c", str(folder / "nginx.conf"), "-p", str(folder), "-g", "daemon off;"]
        with self.error_path.open("wb") as err:
            self.proc = subprocess.Popen(command, stdout=err, stderr=err, start_new_session=True)
        self.wait_until_listening()

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                pass
            try:  # doubles as the pause between attempts, and notices an nginx that died
                code = self.proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"nginx exited with {code} before listening:\n{self.output()}")
        pytest.fail(f"nginx did not listen within {START_TIMEOUT} s:\n{self.output()}")

    def output(self) -> str:
        return self.error_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Server]:
    """Pulse as docker-compose.yml's web service runs it, with one sync worker."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    env = migrated_server_env(tmp_path)
    running = Server(compose_gunicorn_command(compose, env), env, tmp_path)
    try:
        running.wait_until_listening()
        yield running
    finally:
        running.stop()


@pytest.fixture
def nginx(gunicorn: Server, tmp_path: Path) -> Iterator[Nginx]:
    folder = tmp_path / "nginx"
    folder.mkdir()
    proxy = Nginx(gunicorn.port, folder)
    try:
        yield proxy
    finally:
        proxy.stop()


def slow_clients(port: int, count: int) -> list[socket.socket]:
    """`count` connections that each send part of a request, then nothing more."""
    clients = []
    for i in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(HALF_HEADERS if i % 2 else HALF_BODY)
        clients.append(sock)
    return clients


def still_waiting(sock: socket.socket) -> bool:
    """Whether the connection is still open with no answer: the server is still waiting for the rest."""
    sock.setblocking(False)
    try:
        sock.recv(1)  # b"": closed; anything else: answered (a 408, say). Either way, no longer waiting.
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def get(port: int, path: str, timeout: float) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
        return response.status


def test_slow_half_sent_requests_hold_gunicorn_but_not_nginx_in_front(gunicorn: Server, nginx: Nginx) -> None:
    # Without the proxy: gunicorn's one sync worker (PULSE_WORKERS=1 here) is held by a single slow client,
    # and a normal request gets no answer while it waits (gunicorn would wait until its worker timeout).
    held = slow_clients(gunicorn.port, 8)
    try:
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            get(gunicorn.port, "/readyz", timeout=3)
    finally:
        for sock in held:
            sock.close()

    # Through nginx: 120 slow clients, and a normal request is answered while every one of them still waits.
    slow = slow_clients(nginx.port, SLOW_CLIENTS)
    try:
        assert get(nginx.port, "/readyz", timeout=30) == 200
        assert get(nginx.port, "/api/openapi.json", timeout=30) == 200
        waiting = [still_waiting(sock) for sock in slow]
        assert all(waiting), f"{waiting.count(False)} slow clients were dropped or answered first"
    finally:
        for sock in slow:
            sock.close()

    nginx.stop()
    assert not nginx.access_log.exists() or nginx.access_log.read_text() == "", "nginx wrote an access log"
    assert "/readyz" not in nginx.output() and "127.0.0.1:" not in nginx.output().replace(
        f"127.0.0.1:{nginx.port}", ""
    )
