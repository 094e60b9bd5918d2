"""Ingest benchmark: POST /api/v1/ratings via gunicorn and PostgreSQL, driven by wrk, checked against tallies.

    python benchmarks/ingest.py [--duration 20] [--rate 1000] [--workers N] [--connections C]

Creates a throwaway PostgreSQL database, migrates and seeds it (3 shift bands covering the whole day, 50
teams), serves Pulse with gunicorn (the shipped gunicorn.conf.py, PULSE_ENV=production) and sends unique
ratings with wrk: first at a fixed rate (latency), then as fast as the server answers (throughput). Every 201
is counted in wrk's Lua script; afterwards the tallies must hold exactly that many ratings. A minimal Flask
app under the same gunicorn settings, driven by the same script, gives the ceiling. Each worker's peak memory
is read from /proc. Traffic goes to 127.0.0.1 only; the run stops by itself and drops its database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cpu_use import CpuMeter, CpuUse
from flask import Flask, request
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = ROOT / "gunicorn.conf.py"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOOPBACK = {None, "", "127.0.0.1", "localhost", "::1"}
# After the measured window, wrk sends nothing new for this long, so every rating in flight gets its answer.
DRAIN_SECONDS = 5
# wrk counts a connection as timed out once its last request is this old; it must outlast the drain.
WRK_TIMEOUT_SECONDS = 10
START_TIMEOUT = 60.0
TEAMS_PER_DEPARTMENT = 10

# Every request is unique: device secrets and idempotency keys carry the run id, the thread and a counter.
# delay() holds each connection once the window closes, so the run ends with nothing in flight.
LUA_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } pulse_timespec;
int clock_gettime(int clk_id, pulse_timespec *tp);
]]
local clock = ffi.new("pulse_timespec")
local function now_ms()
  ffi.C.clock_gettime(0, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local WINDOW_MS = __WINDOW_MS__
-- 0: as fast as the server answers. Otherwise each wrk thread sends one request every INTERVAL_MS, in turn
-- over its connections, so that all threads together keep to the asked rate while the server keeps up.
local INTERVAL_MS = __INTERVAL_MS__
local PATH = "__PATH__"
local RUN = "__RUN__"
local CODES = { __CODES__ }
local COLOURS = { "red", "amber", "green" }
local HEADERS = { ["Content-Type"] = "application/json" }
local threads = {}
local window_end = nil

-- Runs in the main state; thread:set makes tid and closes_at globals of each thread's own state.
function setup(thread)
  if window_end == nil then window_end = now_ms() + WINDOW_MS end
  table.insert(threads, thread)
  thread:set("tid", #threads)
  thread:set("closes_at", window_end)
end

function init(args)
  math.randomseed(os.time() + tid * 7919)
  sent, acked, refused = 0, 0, 0
  first_sent, last_answer = 0, 0
  statuses = {}
  live = false
  next_due = nil
end

-- wrk calls delay() before every request it sends. Once the window closes, it holds each connection past
-- the end of the run, so no new request starts and the ones in flight are answered during the drain.
function delay()
  live = true
  local now = now_ms()
  if now >= closes_at then return 3600000 end
  if INTERVAL_MS == 0 then return 0 end
  if next_due == nil then next_due = now end
  local due = next_due
  next_due = next_due + INTERVAL_MS
  if due <= now then return 0 end
  return due - now
end

function request()
  local code_offset = sent + tid
  if not live then  -- wrk's start-up check calls request() once before the run: not sent, not counted
    return wrk.format("POST", PATH, HEADERS, "{}")
  end
  sent = sent + 1
  if first_sent == 0 then first_sent = now_ms() end
  local code = CODES[code_offset % #CODES + 1]
  local body = string.format(
    '{"join_code":"%s","colour":"%s","device_secret":"%s-d%d-%d","idempotency_key":"%s-k%d-%d"}',
    code, COLOURS[math.random(3)], RUN, tid, sent, RUN, tid, sent)
  return wrk.format("POST", PATH, HEADERS, body)
end

function response(status, headers, body)
  last_answer = now_ms()
  if status == 201 then
    acked = acked + 1
  else
    refused = refused + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local sent_all, acked_all, refused_all, first, last = 0, 0, 0, math.huge, 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    sent_all = sent_all + thread:get("sent")
    acked_all = acked_all + thread:get("acked")
    refused_all = refused_all + thread:get("refused")
    local f = thread:get("first_sent")
    if f > 0 and f < first then first = f end
    local l = thread:get("last_answer")
    if l > last then last = l end
    for status, n in pairs(thread:get("statuses")) do by_status[status] = (by_status[status] or 0) + n end
  end
  if first == math.huge then first = 0 end
  local e = summary.errors
  io.write(string.format(
    "PULSE_RESULT sent=%d acked=%d refused=%d first_ms=%.3f last_ms=%.3f p50_us=%d p90_us=%d p99_us=%d " ..
    "max_us=%d connect=%d read=%d write=%d timeout=%d\n",
    sent_all, acked_all, refused_all, first, last, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout))
  for status, n in pairs(by_status) do io.write(string.format("PULSE_STATUS %s=%d\n", status, n)) end
end
"""


def hello_app() -> Flask:
    """The ceiling: the same request (JSON body in, 201 JSON out) through Flask and nothing else."""
    app = Flask("hello")

    @app.post("/hello")
    def hello() -> tuple[dict[str, str], int]:
        request.get_json()
        return {"status": "hello"}, 201

    return app


@dataclass
class WrkResult:
    sent: int
    acked: int
    refused: int
    window_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: dict[str, int]
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def unanswered(self) -> int:
        return self.sent - self.acked - self.refused

    @property
    def rate(self) -> float:
        return self.acked / self.window_s if self.window_s > 0 else 0.0


def parse_wrk(output: str) -> WrkResult:
    match = re.search(r"^PULSE_RESULT (.*)$", output, flags=re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    values = {k: float(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
    statuses = {k: int(v) for k, v in re.findall(r"^PULSE_STATUS (\w+)=(\d+)$", output, flags=re.MULTILINE)}
    return WrkResult(
        sent=int(values["sent"]),
        acked=int(values["acked"]),
        refused=int(values["refused"]),
        window_s=(values["last_ms"] - values["first_ms"]) / 1000,
        p50_ms=values["p50_us"] / 1000,
        p90_ms=values["p90_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        max_ms=values["max_us"] / 1000,
        socket_errors={k: int(values[k]) for k in ("connect", "read", "write", "timeout")},
        statuses=statuses,
    )


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


@contextmanager
def throwaway_database(admin_url: str) -> Iterator[str]:
    name = f"pulse_bench_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        print(f"Dropped database {name}.")


def migrate_and_seed(url: str, teams: int) -> list[str]:
    """Migrate, then add shift bands covering the whole day and `teams` teams; returns their join codes."""
    from sqlalchemy.orm import Session

    from pulse import migrate
    from pulse.db import make_engine
    from pulse.services import structure

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            structure.add_shift_band(session, "Early", dt.time(7, 0), dt.time(15, 0))
            structure.add_shift_band(session, "Late", dt.time(14, 30), dt.time(22, 30))
            structure.add_shift_band(session, "Night", dt.time(22, 0), dt.time(7, 30))
            codes = []
            for first in range(0, teams, TEAMS_PER_DEPARTMENT):
                department = structure.add_department(
                    session, f"Department {first // TEAMS_PER_DEPARTMENT + 1}"
                )
                for i in range(first, min(first + TEAMS_PER_DEPARTMENT, teams)):
                    codes.append(structure.add_team(session, department, f"Team {i + 1}", 40).join_code)
            session.commit()
        return codes
    finally:
        engine.dispose()


def tally_sums(url: str) -> dict[str, int]:
    """Ratings held in each tally table, and contributors counted."""
    from pulse.models import OrgShiftTally, TeamWeekTally

    queries = {
        "team_week_tally": select(func.sum(TeamWeekTally.red + TeamWeekTally.amber + TeamWeekTally.green)),
        "org_shift_tally": select(func.sum(OrgShiftTally.red + OrgShiftTally.amber + OrgShiftTally.green)),
        "contributors": select(func.sum(TeamWeekTally.contributors)),
    }
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: int(conn.scalar(query) or 0) for name, query in queries.items()}
    finally:
        engine.dispose()


def run_wrk(
    args: argparse.Namespace, port: int, path: str, codes: list[str], work: Path, rate: float = 0.0
) -> WrkResult:
    """wrk for args.duration seconds: as fast as it goes, or at `rate` requests per second in all."""
    run_id = secrets.token_urlsafe(15)  # 20 characters: every device secret is at least 25
    interval_ms = args.threads * 1000 / rate if rate else 0
    script = (
        LUA_SCRIPT.replace("__WINDOW_MS__", str(args.duration * 1000))
        .replace("__INTERVAL_MS__", f"{interval_ms:.6f}")
        .replace("__PATH__", path)
        .replace("__RUN__", run_id)
        .replace("__CODES__", ", ".join(f'"{c}"' for c in codes))
    )
    script_path = work / f"ingest-{port}-{run_id}.lua"
    script_path.write_text(script, encoding="utf-8")
    command = [
        "wrk", "--threads", str(args.threads), "--connections", str(args.connections),
        "--duration", f"{args.duration + DRAIN_SECONDS}s", "--timeout", f"{WRK_TIMEOUT_SECONDS}s",
        "--latency", "--script", str(script_path), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=args.duration + DRAIN_SECONDS + 60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return parse_wrk(result.stdout)


def server_env(port: int, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env.update(
        PULSE_ENV="production",
        PULSE_SECRET_KEY=secrets.token_urlsafe(36),  # 48 characters
        PULSE_DATABASE_URL=database_url,
        PULSE_HOST="127.0.0.1",
        PULSE_PORT=str(port),
    )
    return env


@dataclass
class PulseRuns:
    maximum: WrkResult
    paced: WrkResult
    peak_rss_mb: dict[int, float]
    cpu: CpuUse  # of the flat-out run


@dataclass
class HelloRun:
    result: WrkResult
    cpu: CpuUse


def measure_pulse(args: argparse.Namespace, database_url: str, codes: list[str], work: Path) -> PulseRuns:
    """One server: a run at the paced rate (latency), then one as fast as it goes (throughput)."""
    env = server_env(free_port(), database_url)
    # wrk is one client address, so the per-address limit is raised out of its way; it still counts every
    # request, as in production (in this worker's memory, as with the default storage).
    env["PULSE_RATING_RATE_LIMIT"] = "100000000/minute"
    server = Gunicorn("pulse.wsgi:app", args.workers, env, work)
    try:
        server.wait_ready("/api/openapi.json")
        paced = run_wrk(args, server.port, "/api/v1/ratings", codes, work, rate=args.rate)
        meter = CpuMeter(server.worker_pids())
        maximum = run_wrk(args, server.port, "/api/v1/ratings", codes, work)
        return PulseRuns(maximum, paced, server.peak_rss_mb(), meter.per_request(maximum.sent))
    finally:
        server.stop()


def measure_hello(args: argparse.Namespace, database_url: str, codes: list[str], work: Path) -> HelloRun:
    extra = ("--pythonpath", str(Path(__file__).resolve().parent))
    server = Gunicorn("ingest:hello_app()", args.workers, server_env(free_port(), database_url), work, extra)
    try:
        server.wait_ready("/hello", method="POST")
        meter = CpuMeter(server.worker_pids())
        result = run_wrk(args, server.port, "/hello", codes, work)
        return HelloRun(result, meter.per_request(result.sent))
    finally:
        server.stop()


def print_report(
    args: argparse.Namespace, pulse: PulseRuns, hello_run: HelloRun, sums: dict[str, int]
) -> bool:
    def row(label: str, *values: str) -> None:
        print(f"  {label:<34}" + "".join(f"{v:>22}" for v in values))

    hello = hello_run.result

    runs = (pulse.paced, pulse.maximum, hello)
    print()
    print(
        f"Pulse ingest: gunicorn sync workers={args.workers}, wrk threads={args.threads} "
        f"connections={args.connections}, window {args.duration} s (+{DRAIN_SECONDS} s drain) per run, "
        f"{os.cpu_count()} CPU cores, everything on 127.0.0.1"
    )
    row("", f"ratings at {args.rate:g}/s", "ratings, flat out", "hello, flat out")
    row("requests sent", *(str(r.sent) for r in runs))
    row("acknowledged (201)", *(str(r.acked) for r in runs))
    row("non-201 responses", *(str(r.refused) for r in runs))
    row("unanswered at the end", *(str(r.unanswered) for r in runs))
    row("measured window (s)", *(f"{r.window_s:.2f}" for r in runs))
    row("throughput (201/s)", *(f"{r.rate:.1f}" for r in runs))
    row("latency p50 (ms)", *(f"{r.p50_ms:.2f}" for r in runs))
    row("latency p90 (ms)", *(f"{r.p90_ms:.2f}" for r in runs))
    row("latency p99 (ms)", *(f"{r.p99_ms:.2f}" for r in runs))
    row("latency max (ms)", *(f"{r.max_ms:.2f}" for r in runs))
    keys = ("connect", "read", "write", "timeout")
    row("socket errors conn/read/write/tmo", *("/".join(str(r.socket_errors[k]) for k in keys) for r in runs))
    for label, run in zip(("paced", "flat out", "hello"), runs, strict=True):
        if run.statuses:
            print(f"  non-201 statuses ({label}): {run.statuses}")
    peaks = pulse.peak_rss_mb
    print("  peak RSS per worker (MB): " + ", ".join(f"{v:.1f}" for v in sorted(peaks.values())))
    print_cpu(pulse.cpu, hello_run.cpu)

    acked = pulse.paced.acked + pulse.maximum.acked
    print("\nDatabase check (must equal the acknowledged count of both rating runs exactly):")
    exact = True
    # Every device is new, so each rating is also one new contributor.
    for name, label in (
        ("team_week_tally", "team_week_tally red+amber+green"),
        ("org_shift_tally", "org_shift_tally red+amber+green"),
        ("contributors", "team_week_tally contributors"),
    ):
        same = sums[name] == acked
        exact = exact and same
        verdict = "= acknowledged" if same else f"!= {acked} acknowledged"
        print(f"  {label:<34} {sums[name]:>10}  {verdict}")

    ratio = pulse.maximum.rate / hello.rate if hello.rate else 0.0
    clean = all(r.refused == 0 and r.unanswered == 0 and r.acked > 0 for r in (pulse.paced, pulse.maximum))
    targets = [
        ("every rating acknowledged, none refused or lost", clean),
        ("tallies equal the acknowledged count exactly", exact),
        (f"flat out >= {args.target_rate:g} ratings/s ({pulse.maximum.rate:.0f})",
         pulse.maximum.rate >= args.target_rate),
        (f"flat out >= 30% of hello ({ratio:.1%})", ratio >= 0.30),
        (f"at {args.rate:g}/s: rate kept within 5% ({pulse.paced.rate:.0f}/s)",
         pulse.paced.rate >= 0.95 * args.rate),
        (f"at {args.rate:g}/s: p99 < 50 ms ({pulse.paced.p99_ms:.1f} ms)", pulse.paced.p99_ms < 50),
        (f"peak RSS per worker < 150 MB ({max(peaks.values(), default=0):.1f} MB)",
         bool(peaks) and max(peaks.values()) < 150),
    ]  # fmt: skip
    print("\nTargets:")
    for label, met in targets:
        print(f"  {'PASS' if met else 'FAIL'}  {label}")
    good = all(met for _, met in targets)
    print(f"\nRESULT: {'PASS' if good else 'FAIL'}")
    return good


def print_cpu(ratings: CpuUse, hello: CpuUse) -> None:
    """Where the cores went in the two flat-out runs, and the rate they would allow at that cost."""
    cores = os.cpu_count() or 1

    def row(label: str, a: str, b: str) -> None:
        print(f"  {label:<34}{a:>22}{b:>22}")

    print("\nCPU time per request, flat-out runs (ms; PostgreSQL counts all its processes):")
    row("", "ratings", "hello")
    row("gunicorn workers (Pulse)", f"{ratings.workers_ms:.3f}", f"{hello.workers_ms:.3f}")
    row("PostgreSQL", f"{ratings.postgres_ms:.3f}", f"{hello.postgres_ms:.3f}")
    row("wrk (load generator)", f"{ratings.load_generator_ms:.3f}", f"{hello.load_generator_ms:.3f}")
    row("total", f"{ratings.total_ms:.3f}", f"{hello.total_ms:.3f}")
    row(f"{cores} cores / total (requests/s)", f"{ratings.ceiling(cores):.0f}", f"{hello.ceiling(cores):.0f}")
    if ratings.postgres_ms:
        print(
            f"  PostgreSQL alone, at {ratings.postgres_ms:.3f} ms a rating, would use all {cores} cores at "
            f"{cores * 1000 / ratings.postgres_ms:.0f} ratings/s."
        )


def main(argv: list[str] | None = None) -> int:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=20, help="measured seconds per run (default 20)")
    parser.add_argument("--workers", type=int, default=2 * cores + 1, help="gunicorn workers (2*cores+1)")
    parser.add_argument("--connections", type=int, default=None, help="wrk connections (default 2*workers)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--teams", type=int, default=50, help="teams to seed (default 50)")
    parser.add_argument("--rate", type=float, default=1000.0, help="paced run's ratings/s (default 1000)")
    parser.add_argument("--target-rate", type=float, default=1500.0, help="flat-out target (default 1500)")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL that may create databases")
    args = parser.parse_args(argv)
    args.connections = args.connections or 2 * args.workers
    if not 1 <= args.duration <= 600:
        parser.error("--duration must be between 1 and 600 seconds")
    if make_url(args.admin_url).host not in LOOPBACK:
        parser.error("this benchmark only talks to a PostgreSQL on this machine (127.0.0.1)")
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="pulse-bench-") as tmp, throwaway_database(args.admin_url) as url:
        work = Path(tmp)
        print(f"Database {make_url(url).database}: migrating; seeding {args.teams} teams, 3 shift bands ...")
        codes = migrate_and_seed(url, args.teams)
        print(
            f"Ratings: {args.duration} s at {args.rate:g}/s, then {args.duration} s flat out, "
            "against gunicorn + PostgreSQL ..."
        )
        pulse = measure_pulse(args, url, codes, work)
        sums = tally_sums(url)
        print(f"Ceiling: {args.duration} s against a minimal Flask app ...")
        hello = measure_hello(args, url, codes, work)
        good = print_report(args, pulse, hello, sums)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
