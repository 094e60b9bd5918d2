"""Reliability: each acknowledged rating counts once, through load, a database restart and killed workers.

    python -m benchmarks.reliability load          [--rate 1000 --duration 60]
    python -m benchmarks.reliability db-restart    [--rate 200 --duration 30 --outage 3]
    python -m benchmarks.reliability worker-kill   [--rate 200 --duration 30 --kills 2]

Each scenario serves Pulse with gunicorn (the shipped gunicorn.conf.py, sync workers, PULSE_ENV=production) on
a throwaway, seeded PostgreSQL database (3 shift bands covering the whole day, 50 teams) and sends unique
ratings at a fixed rate from an asyncio client. Like the rating page on a phone, the client keeps each rating
(its own device secret and idempotency key) until the server acknowledges it with 201, and resends the same
body after a 503 (waiting for Retry-After, capped), a lost connection or a timeout. Afterwards the tallies
must hold exactly one rating and one contributor per acknowledged rating. db-restart runs its own PostgreSQL
cluster in a temporary directory (never the machine's shared server) and restarts it mid-load; worker-kill
sends SIGKILL to a gunicorn worker while it serves a rating. Prints the figures; exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import os
import pwd
import signal
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy.engine import make_url

from benchmarks.common.database import check_local, migrate_and_seed, tally_sums, throwaway_database
from benchmarks.common.server import Gunicorn, free_port, maintained, server_env
from benchmarks.common.statistics import percentile
from benchmarks.reliability_client import LoadResult, Options, RatingClient, run_in_own_loop
from benchmarks.reliability_faults import (
    POSTGRES_BIN_GLOB,
    Disruption,
    Timeline,
    find_postgres_bin,
    kill_workers,
    private_postgres,
    restart_postgres,
)

SCENARIOS = ("load", "db-restart", "worker-kill")
# Lines that continue a traceback after its exception: chained tracebacks, SQLAlchemy's statement and link.
CHAINED = ("Traceback", "The above exception", "During handling", "[SQL:", "[parameters:", "(Background on")


@dataclass
class Outcome:
    scenario: str
    options: Options
    result: LoadResult | None = None
    sums: dict[str, int] = field(default_factory=dict)
    timeline: Timeline = field(default_factory=Timeline)
    server_log: str = ""
    failures: list[str] = field(default_factory=list)
    skipped: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures and not self.skipped and self.result is not None

    @property
    def tracebacks(self) -> list[str]:
        """Tracebacks in gunicorn's log, each with the line before it and any chained ones."""
        blocks: list[list[str]] = []
        lines = self.server_log.splitlines()
        state = ""
        for previous, line in zip(["", *lines], lines, strict=False):
            if state == "" and line.startswith("Traceback"):
                blocks.append([previous, line])
                state = "frames"
            elif state == "frames":
                blocks[-1].append(line)
                if not line.startswith((" ", "\t")):
                    state = "after"  # that was the exception itself
            elif state == "after" and (line.startswith(CHAINED) or not line.strip()):
                blocks[-1].append(line)
                state = "frames" if line.startswith("Traceback") else "after"
            else:
                state = ""
        return ["\n".join(block).strip() for block in blocks]


def run_scenario(scenario: str, options: Options) -> Outcome:
    """Run one scenario and judge it; the outcome's failures list what went wrong (empty: pass)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    outcome = Outcome(scenario, options)
    with tempfile.TemporaryDirectory(prefix="pulse-reliability-") as tmp:
        work = Path(tmp)
        if scenario == "db-restart":
            bin_dir = find_postgres_bin(options.postgres_bin)
            if bin_dir is None:
                where = options.postgres_bin or POSTGRES_BIN_GLOB
                outcome.skipped = (
                    f"no PostgreSQL server binaries (initdb, pg_ctl) under {where}; "
                    "install the postgresql package or pass --postgres-bin"
                )
                return outcome
            if os.geteuid() == 0 and not _has_user("postgres"):
                outcome.skipped = (
                    "running as root and there is no `postgres` user to run initdb and pg_ctl as"
                )
                return outcome
            with private_postgres(bin_dir) as cluster:
                print(f"Private PostgreSQL ({bin_dir}) on 127.0.0.1:{cluster.port}")
                # No throwaway database: the whole cluster is thrown away.
                url = cluster.create_database("pulse")
                _run_load(outcome, url, work, restart_postgres(cluster, outcome.timeline))
        else:
            with throwaway_database(options.admin_url) as url:
                disruption = None
                if scenario == "worker-kill":
                    disruption = kill_workers(make_url(url).port or 5432, outcome.timeline)
                _run_load(outcome, url, work, disruption)
    if outcome.result is not None:
        judge(outcome)
    return outcome


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _run_load(
    outcome: Outcome,
    url: str,
    work: Path,
    disruption: Disruption | None,
) -> None:
    options = outcome.options
    print(f"Database {make_url(url).database}: migrating; seeding {options.teams} teams, 3 shift bands ...")
    codes = migrate_and_seed(url, options.teams)
    env = server_env(free_port(), url)
    # No per-address limit: every rating here comes from 127.0.0.1. "off", as Settings.from_env ignores
    # an empty variable (the default limit would stay on).
    env["PULSE_RATING_RATE_LIMIT"] = "off"
    with maintained(env, work):
        server = Gunicorn("pulse.wsgi:app", options.workers, env, work)
        try:
            server.wait_ready("/api/openapi.json")
            print(f"{outcome.scenario}: {options.rate:g} ratings/s for {options.duration:g} s ...")
            client = RatingClient(server.port, codes, options)
            outcome.result = run_in_own_loop(client.run(partial(disruption, server) if disruption else None))
        finally:
            server.stop()
            outcome.server_log = server.log_path.read_text(errors="replace")
    outcome.sums = tally_sums(url)


def judge(outcome: Outcome) -> None:
    result = outcome.result
    assert result is not None
    failures = outcome.failures
    outcomes = result.outcomes
    acked = result.acked
    if acked == 0:
        failures.append("no rating was acknowledged")
    unacked = result.unacknowledged
    refused = [r for r in unacked if r.final.isdigit() and int(r.final) < 500]
    if refused:
        failures.append(f"{len(refused)} ratings refused; first: {refused[0].final} {refused[0].detail}")
    if len(unacked) > len(refused):
        failures.append(f"{len(unacked) - len(refused)} ratings never acknowledged within the settle time")
    server_errors = {k: n for k, n in outcomes.items() if k.isdigit() and int(k) >= 500 and k != "503"}
    if server_errors:
        failures.append(f"server errors other than 503: {server_errors}")
    if outcomes["timeout"]:
        failures.append(f"{outcomes['timeout']} attempts hung past the {outcome.options.timeout:g} s timeout")
    if result.missing_retry_after:
        failures.append(f"{result.missing_retry_after} answers 503 without Retry-After")
    if outcome.scenario == "load" and outcomes["503"] + outcomes["connection lost"]:
        failures.append(f"errors under load: 503 x {outcomes['503']}, lost x {outcomes['connection lost']}")
    if result.disruption_error:
        failures.append(f"the {outcome.scenario} disruption failed: {result.disruption_error}")
    if outcome.scenario == "db-restart":
        if outcome.timeline.outage is None:
            failures.append("PostgreSQL was not restarted while ratings flowed")
        if outcomes["503"] == 0:
            failures.append("no request met the outage (no 503): the scenario proved nothing")
        if outcomes["connection lost"]:
            failures.append(f"{outcomes['connection lost']} connections lost: workers should answer 503")
    if outcome.scenario == "worker-kill":
        if outcomes["503"]:
            failures.append(f"{outcomes['503']} answers 503 although the database stayed up")
        if len(outcome.timeline.kills) < outcome.options.kills:
            failures.append(f"only {len(outcome.timeline.kills)} of {outcome.options.kills} workers killed")
    if outcome.tracebacks:
        failures.append(f"the server logged {len(outcome.tracebacks)} tracebacks")
    for name in ("team_week_tally", "org_shift_tally", "contributors"):
        if outcome.sums.get(name) != acked:
            failures.append(f"{name} holds {outcome.sums.get(name)}, acknowledged {acked}")


def print_report(outcome: Outcome) -> None:
    options, result = outcome.options, outcome.result
    if outcome.skipped:
        print(f"\n{outcome.scenario}: SKIPPED: {outcome.skipped}")
        return
    assert result is not None

    def row(label: str, value: str) -> None:
        print(f"  {label:<30} {value}")

    print(
        f"\nPulse reliability, {outcome.scenario}: gunicorn sync workers={options.workers}, "
        f"client connections={options.connections}, {os.cpu_count()} CPU cores shared by client, gunicorn "
        "and PostgreSQL"
    )
    sent, window = len(result.ratings), result.window_s or options.duration
    row("target", f"{options.rate:g} ratings/s for {options.duration:g} s ({result.scheduled} ratings)")
    row("sent", f"{sent} ({sent / window:.1f}/s); held back in the client: {result.scheduled - sent}")
    row("client lag, max", f"{result.max_lag_ms:.0f} ms (a due rating waiting for a free connection)")
    row("acknowledged in the window", f"{result.acked_in_window} ({result.acked_in_window / window:.1f}/s)")
    row("acknowledged in all", f"{result.acked} of {sent}")
    if result.acked_in_window / window < 0.95 * options.rate:
        row("rate", f"MISSED: {result.acked_in_window / window:.0f}/s of {options.rate:g}/s acknowledged")
    row(
        "CPU while ratings flowed",
        f"client {result.client_cpu_s:.1f} s in {result.elapsed_s:.1f} s; all {os.cpu_count()} cores "
        f"{result.machine_busy:.0%} busy (everything on the machine); load average {os.getloadavg()[0]:.1f}",
    )
    row("attempts", ", ".join(f"{k} x {n}" for k, n in sorted(result.outcomes.items())))
    most = max((r.attempts for r in result.ratings), default=0)
    row("retried ratings", f"{result.retried} (most attempts for one rating: {most})")
    latencies = [(r.acked_at - r.due) * 1000 for r in result.ratings if r.acked_at is not None]
    row(
        "due -> 201 (ms)",
        " / ".join(f"{percentile(latencies, p):.0f}" for p in (0.5, 0.9, 0.99))
        + f" / {max(latencies, default=0):.0f}"
        "  (p50 / p90 / p99 / max)",
    )
    row(
        "one attempt (ms)",
        " / ".join(f"{percentile(result.attempt_ms, p):.1f}" for p in (0.5, 0.9, 0.99))
        + f" / {max(result.attempt_ms, default=0):.1f}",
    )
    for at, what in outcome.timeline.marks:
        row(f"at {at:6.2f} s", what)
    if outcome.timeline.outage:
        began, ended = outcome.timeline.outage
        row("outage", f"{ended - began:.2f} s (from {began:.2f} s to {ended:.2f} s)")
    for at, pid, respawn in outcome.timeline.kills:
        row(
            f"at {at:6.2f} s",
            f"SIGKILL worker {pid} serving a rating; a new one served {respawn:.2f} s later",
        )
    for outcome_name in ("503", "connection lost", "timeout"):
        times = result.times_of(outcome_name)
        if times:
            row(f"{outcome_name} answers", f"{len(times)}, from {min(times):.2f} s to {max(times):.2f} s")
    if result.missing_retry_after:
        row("503 without Retry-After", str(result.missing_retry_after))
    finals = Counter(r.final for r in result.unacknowledged)
    if finals:
        row("not acknowledged", ", ".join(f"{k} x {n}" for k, n in finals.items()))
        for rating in result.unacknowledged[:5]:
            print(f"    {rating.final}: {rating.detail}  body {rating.body.decode()}")

    print("\nDatabase check (must equal the acknowledged count exactly):")
    for name, label in (
        ("team_week_tally", "team_week_tally red+amber+green"),
        ("org_shift_tally", "org_shift_tally red+amber+green"),
        ("contributors", "team_week_tally contributors"),
    ):
        value = outcome.sums.get(name)
        verdict = "= acknowledged" if value == result.acked else f"!= {result.acked} acknowledged"
        print(f"  {label:<34} {value!s:>10}  {verdict}")

    warnings = outcome.server_log.count("database unavailable")
    tracebacks = outcome.tracebacks
    print(f"\nServer log: {warnings} 'database unavailable' warnings, {len(tracebacks)} tracebacks")
    for block in tracebacks[:3]:
        print("  " + block.replace("\n", "\n  "))
    for failure in outcome.failures:
        print(f"FAIL: {failure}")
    print(f"\nRESULT: {'PASS' if outcome.passed else 'FAIL'}")


DEFAULTS = {
    "load": {"rate": 1000.0, "duration": 60.0},
    "db-restart": {"rate": 200.0, "duration": 30.0},
    "worker-kill": {"rate": 200.0, "duration": 30.0},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--rate", type=float, help="ratings per second (load 1000, else 200)")
    parser.add_argument("--duration", type=float, help="seconds of load (load 60, else 30)")
    base = Options()
    parser.add_argument("--workers", type=int, default=base.workers, help="gunicorn workers (2*cores+1)")
    parser.add_argument("--connections", type=int, default=base.connections, help="client connections (32)")
    parser.add_argument("--teams", type=int, default=base.teams, help="teams to seed (50)")
    parser.add_argument("--timeout", type=float, default=base.timeout, help="seconds before an attempt hangs")
    parser.add_argument("--retry-cap", type=float, default=base.retry_cap, help="longest wait before a retry")
    parser.add_argument("--settle", type=float, default=base.settle, help="seconds to acknowledge the rest")
    parser.add_argument("--admin-url", default=base.admin_url, help="load, worker-kill: PostgreSQL to use")
    parser.add_argument("--outage", type=float, default=base.outage, help="db-restart: seconds down (3)")
    parser.add_argument("--kills", type=int, default=base.kills, help="worker-kill: workers to kill (2)")
    parser.add_argument(
        "--postgres-bin", default="", help=f"db-restart: server binaries ({POSTGRES_BIN_GLOB})"
    )
    args = parser.parse_args(argv)
    defaults = DEFAULTS[args.scenario]
    options = Options(
        rate=args.rate or defaults["rate"],
        duration=args.duration or defaults["duration"],
        workers=args.workers,
        connections=args.connections,
        teams=args.teams,
        timeout=args.timeout,
        retry_cap=args.retry_cap,
        settle=args.settle,
        admin_url=args.admin_url,
        outage=args.outage,
        kills=args.kills,
        postgres_bin=args.postgres_bin,
    )
    if not 1 <= options.duration <= 600 or options.rate <= 0:
        parser.error("--duration must be between 1 and 600 seconds and --rate above 0")
    check_local(parser, options.admin_url)
    # Stop cleanly on SIGTERM too, so the private cluster, the database and gunicorn are always removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    outcome = run_scenario(args.scenario, options)
    print_report(outcome)
    return 0 if outcome.passed or outcome.skipped else 1


if __name__ == "__main__":
    sys.exit(main())
