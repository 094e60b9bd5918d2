"""Ingest benchmark: POST /api/v1/ratings via gunicorn and PostgreSQL, driven by wrk, checked against tallies.

    python -m benchmarks.ingest [--duration 20] [--rate 1000] [--workers N] [--connections C]

Creates a throwaway PostgreSQL database, migrates and seeds it (3 shift bands covering the whole day, 50
teams), serves Pulse with gunicorn (the shipped gunicorn.conf.py, PULSE_ENV=production) beside one
`pulse maintain` (which mixes the sealed inbox into the tallies, as in production), and sends unique ratings
with wrk: first at a fixed rate (latency), then as fast as the server answers (throughput). Every 201 is
counted in wrk's Lua script; afterwards (the rest of the inbox mixed) the tallies must hold exactly that many.
A minimal Flask app under the same gunicorn settings, driven by the same script, gives the ceiling. Each
worker's peak memory is read from /proc. Traffic goes to 127.0.0.1 only; the run stops by itself and drops
its database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from benchmarks.common.cpu import CpuMeter, CpuUse
from benchmarks.common.database import (
    DEFAULT_ADMIN_URL,
    check_local,
    migrate_and_seed,
    tally_sums,
    throwaway_database,
)
from benchmarks.common.server import Gunicorn, free_port, maintained, server_env
from benchmarks.ingest_wrk import DRAIN_SECONDS, WrkResult, run_wrk


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
    """One server and its maintainer: a run at the paced rate (latency), then one as fast as it goes
    (throughput); then whatever still waits in the sealed inbox is mixed."""
    env = server_env(free_port(), database_url)
    # wrk is one client address, so the per-address limit is raised out of its way; it still counts every
    # request, as in production (in Redis, shared by the workers, as docker-compose.yml runs it).
    env["PULSE_RATING_RATE_LIMIT"] = "100000000/minute"
    with maintained(env, work) as maintainer:
        server = Gunicorn("pulse.wsgi:app", args.workers, env, work)
        try:
            server.wait_ready("/api/openapi.json")
            paced = run_wrk(args, server.port, "/api/v1/ratings", codes, work, rate=args.rate)
            meter = CpuMeter([*server.worker_pids(), maintainer.pid])
            maximum = run_wrk(args, server.port, "/api/v1/ratings", codes, work)
            return PulseRuns(maximum, paced, server.peak_rss_mb(), meter.per_request(maximum.sent))
        finally:
            server.stop()


def measure_hello(args: argparse.Namespace, database_url: str, codes: list[str], work: Path) -> HelloRun:
    env = server_env(free_port(), database_url)
    server = Gunicorn("benchmarks.ingest_wrk:hello_app()", args.workers, env, work)
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
    row("gunicorn workers (+ maintainer)", f"{ratings.workers_ms:.3f}", f"{hello.workers_ms:.3f}")
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
    check_local(parser, args.admin_url)
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
