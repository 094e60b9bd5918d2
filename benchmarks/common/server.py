"""Servers for the benchmarks: Pulse (or a minimal app) under gunicorn with the shipped gunicorn.conf.py, one
`pulse maintain` beside it, and a threaded werkzeug server for the in-process browser benchmarks."""

from __future__ import annotations

import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from benchmarks.common import ROOT

GUNICORN_CONFIG = ROOT / "gunicorn.conf.py"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """gunicorn in its own process group, logging to files; stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, app: str, workers: int, env: dict[str, str], logs: Path, extra: tuple[str, ...] = ()):
        self.port = int(env["PULSE_PORT"])
        self.log_path = logs / f"gunicorn-{self.port}.log"
        config = str(GUNICORN_CONFIG)
        command = [sys.executable, "-m", "gunicorn", "-c", config, "--workers", str(workers), *extra, app]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, path: str, method: str = "GET") -> None:
        deadline = time.monotonic() + START_TIMEOUT
        url = f"http://127.0.0.1:{self.port}{path}"
        while time.monotonic() < deadline:
            try:
                probe = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None)
                probe.add_header("Content-Type", "application/json")
                with urllib.request.urlopen(probe, timeout=5):
                    return
            except urllib.error.HTTPError:
                return  # answering, which is all we wait for
            except OSError:
                pass
            try:  # the pause between attempts, which also notices a server that died
                self.proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log()}")
        raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def worker_pids(self) -> list[int]:
        """The master's children: its workers (Linux /proc)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == self.proc.pid:  # the field after the state is the parent's pid
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def peak_rss_mb(self) -> dict[int, float]:
        """Each live worker's peak resident memory so far (VmHWM), in MB."""
        peaks = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, flags=re.MULTILINE)
            if match:
                peaks[pid] = int(match.group(1)) / 1024
        return peaks

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def server_env(port: int, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env.update(
        PULSE_ENV="production",
        PULSE_SECRET_KEY=secrets.token_urlsafe(36),  # 48 characters
        PULSE_DATABASE_URL=database_url,
        PULSE_HOST="127.0.0.1",
        PULSE_PORT=str(port),
        PULSE_PUBLIC_URL=f"http://127.0.0.1:{port}",  # production builds links from it alone
        # Production with several workers counts rate limits in Redis, as docker-compose.yml does.
        PULSE_RATELIMIT_STORAGE_URL="redis://127.0.0.1:6379/0",
    )
    return env


def pulse_command(env: dict[str, str], *args: str) -> None:
    """Run `pulse <args>` (python -m pulse) with the server's settings, and fail loudly if it fails."""
    subprocess.run([sys.executable, "-m", "pulse", *args], cwd=ROOT, env=env, check=True, timeout=300)


def _first_round_done(maintainer: subprocess.Popen[bytes], log_path: Path, start: int) -> None:
    """Wait until the maintainer has finished its first round, which also rewrites the tables (VACUUM FULL on
    PostgreSQL): ratings sent meanwhile wait for those locks, and a measurement that began then would
    measure the rewrite. The round ends with the line describe_mix writes ("Released ...")."""
    deadline = time.monotonic() + 120
    while b"Released " not in log_path.read_bytes()[start:]:
        if maintainer.poll() is not None:
            raise RuntimeError(f"pulse maintain exited with {maintainer.returncode}: see {log_path}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"pulse maintain did not finish its first round in 120 s: see {log_path}")
        time.sleep(0.05)


@contextmanager
def maintained(env: dict[str, str], work: Path) -> Iterator[subprocess.Popen[bytes]]:
    """One `pulse maintain` beside the server, as in production (it mixes the sealed inbox into the
    tallies); on the way out it is stopped and whatever still waits is mixed, so the tallies are complete."""
    env["PULSE_INBOX_KEY_DIR"] = str(work / "inbox-keys")
    pulse_command(env, "mix")  # opens the inbox's first epoch, as the maintainer does when it starts
    log_path = work / "maintain.log"
    start = log_path.stat().st_size if log_path.exists() else 0
    with log_path.open("ab") as log:
        maintainer = subprocess.Popen(
            [sys.executable, "-m", "pulse", "maintain"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        _first_round_done(maintainer, log_path, start)
        yield maintainer
    finally:
        maintainer.terminate()
        maintainer.wait(timeout=60)
        pulse_command(env, "mix")


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """`app` on a threaded werkzeug server at a free port of 127.0.0.1; yields its base URL."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)  # port 0: a free port, listening on return
    thread = threading.Thread(target=server.serve_forever, name="pulse-bench-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
