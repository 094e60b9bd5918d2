"""Verified rating, whole server path: the CPU a rating spent with tokens costs over an open-mode rating, the
CPU of issuing one person a week of tokens, and what a 20,000-staff trust's Monday issuance takes.

    python -m benchmarks.verified [--people 2000] [--teams 100] [--rounds 4] [--admin-url URL]

Pulse runs in this process (the Flask app, its test client, the PostgreSQL direct rating path) on a
throwaway PostgreSQL database (`--admin-url`, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
Server CPU is this process's CPU time (`time.process_time`: Pulse's code, and the test client's small share,
which makes the figures a slight overestimate) plus the CPU time of every PostgreSQL backend connected to the
benchmark's database (read from /proc/<pid>/stat; other databases' work on a shared server is not counted).

1. Seeds 3 shift bands covering the day, `--teams` teams, `--people` people on their rosters (evenly), one
   enrolled phone each; the organisation rates verified; the clock is Monday 06:00, before the week's first
   shift, so a week's tokens are every token of the week.
2. Issuance: each phone reads its team's published keys and blinds its requests (not timed: the phone's
   work), then fetches the week in one `POST /api/v1/tokens` (timed): 21 slots, the team-week, 7 days and
   the organisation week, 30 blind evaluations with proofs. Printed per person; then the Monday of a
   20,000-staff trust as 20,000 x that figure over 2 cores: an extrapolation from the people measured, not a
   run of 20,000 phones.
3. Rating: the clock moves to Wednesday 10:00 (an Early shift). In `--rounds` rounds, a batch of open-mode
   ratings (the organisation switched to open; each a fresh device secret) and a batch of token ratings
   (switched back to verified; each person's Wednesday Early token and pseudonyms), in turn first (so that
   any drift of the machine cancels out), every body made before the clock starts. Printed per rating for
   each mode, and the difference (issue 16's target: at most +0.5 ms, application and database together).

Prints its figures; checks nothing but that every rating was counted (201) and every token issued.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from benchmarks.common.database import throwaway_database

LONDON = ZoneInfo("Europe/London")
WEEK = dt.date(2026, 11, 16)  # a Monday
MONDAY_EARLY_MORNING = dt.datetime(2026, 11, 16, 6, 0, tzinfo=LONDON)
WEDNESDAY_EARLY = dt.datetime(2026, 11, 18, 10, 0, tzinfo=LONDON)
WEDNESDAY = WEDNESDAY_EARLY.date()
TICKS = os.sysconf("SC_CLK_TCK")
SPEND_TARGET_MS = 0.5
ISSUE_TARGET_MS = 30.0
TRUST_STAFF = 20_000
CORES = 2


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class ServerCpu:
    """This process's CPU time plus that of every PostgreSQL backend on the benchmark's database."""

    def __init__(self, admin: Engine, database: str) -> None:
        self.admin, self.database = admin, database

    def _backends(self) -> dict[int, float]:
        with self.admin.connect() as conn:
            pids = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
                {"db": self.database},
            ).scalars()
            return {pid: _proc_seconds(pid) for pid in pids}

    @contextmanager
    def measure(self) -> Iterator[list[float]]:
        """Yields a list that holds, afterwards, [app seconds, database seconds]."""
        out: list[float] = []
        before, app_before = self._backends(), time.process_time()
        yield out
        app = time.process_time() - app_before
        after = self._backends()
        database = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
        out += [app, database]


def _proc_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Setup:
    app: Any
    clock: Clock
    team_ids: list[int]
    join_codes: dict[int, str]
    bands: dict[str, int]
    credentials: list[tuple[int, str]]  # (team id, credential), one per person


def seed(url: str, clock: Clock, teams: int, people: int) -> Setup:
    from pulse import create_app, migrate
    from pulse.db import make_engine
    from pulse.models import RatingMode
    from pulse.services import structure
    from pulse.services.accounts import roster
    from pulse.services.accounts.roster.devices import enrol_device
    from pulse.services.organisation import set_rating_mode
    from pulse.services.rating import KeyFiles, ensure_open_epoch

    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "database_url": url,
            "env": "test",
            "now": clock,
            "dashboard": False,
            "rating_rate_limit": "off",
            "secret_key": secrets.token_urlsafe(48),
            "data_dir": Path(os.environ.get("TMPDIR", "/tmp")) / f"pulse-bench-{secrets.token_hex(4)}",
        }
    )
    rt = app.extensions["pulse"]
    today = clock().date()
    with rt.write_session_factory() as session:
        bands = {
            "Early": structure.add_shift_band(session, "Early", dt.time(7, 0), dt.time(15, 0)).id,
            "Late": structure.add_shift_band(session, "Late", dt.time(14, 30), dt.time(22, 30)).id,
            "Night": structure.add_shift_band(session, "Night", dt.time(22, 0), dt.time(7, 30)).id,
        }
        department = structure.add_department(session, "Medicine")
        team_list = [structure.add_team(session, department, f"Ward {i + 1}", 100_000) for i in range(teams)]
        session.flush()
        credentials = []
        for n in range(people):
            team = team_list[n % teams]
            person, _ = roster.add_to_team(session, None, f"staff{n:05d}@example.nhs.uk", team, today=today)
            credentials.append((team.id, enrol_device(session, person, today=today)))
        set_rating_mode(session, RatingMode.VERIFIED)
        ensure_open_epoch(session, KeyFiles(rt.settings.inbox_keys), clock())
        session.commit()
        join_codes = {team.id: team.join_code for team in team_list}
        team_ids = [team.id for team in team_list]
    return Setup(app, clock, team_ids, join_codes, bands, credentials)


def set_mode(setup: Setup, verified: bool) -> None:
    from pulse.models import RatingMode
    from pulse.services.organisation import set_rating_mode

    with setup.app.extensions["pulse"].write_session_factory() as session:
        set_rating_mode(session, RatingMode.VERIFIED if verified else RatingMode.OPEN)
        session.commit()


def issue_weeks(setup: Setup, cpu: ServerCpu) -> tuple[list[Any], float, float]:
    """Every phone fetches its week; returns the phones and the app and database seconds of the POSTs."""
    from pulse.services.tokens import decode_base64url
    from tests.phone import Phone, token_id

    client = setup.app.test_client()
    phones, wanted = [], []
    for team_id, credential in setup.credentials:
        phone = Phone(client, credential)
        entries = phone.fetch_keys(team_id, WEEK)
        wants = [token_id(entry) for entry in entries]
        for want in wants:
            phone.blind(want)
        phones.append(phone)
        wanted.append(wants)
    answers = []
    with cpu.measure() as used:
        for phone, wants in zip(phones, wanted, strict=True):
            answers.append(phone.request_tokens(wants))
    for phone, response in zip(phones, answers, strict=True):
        body = response.get_json()
        assert response.status_code == 200 and not body["refused"], body
        for issued in body["issued"]:
            phone.finish(token_id(issued), decode_base64url(issued["evaluation"]))
    return phones, used[0], used[1]


def open_body(join_code: str) -> dict[str, Any]:
    return {
        "join_code": join_code,
        "colour": secrets.choice(["red", "amber", "green"]),
        "device_secret": secrets.token_urlsafe(32),
        "idempotency_key": secrets.token_hex(16),
    }


def rate(setup: Setup, cpu: ServerCpu, bodies: list[dict[str, Any]]) -> tuple[float, float]:
    client = setup.app.test_client()
    client.post("/api/v1/ratings", json={})  # anything lazy in the app is made before the clock starts
    with cpu.measure() as used:
        statuses = [client.post("/api/v1/ratings", json=body).status_code for body in bodies]
    assert statuses == [201] * len(bodies), sorted(set(statuses))
    return used[0], used[1]


def token_steps(setup: Setup, open_body: dict[str, Any], token_body: dict[str, Any]) -> tuple[float, float]:
    """The two steps a token rating adds, each timed alone (ms): the schema's reading of its body over an
    open rating's, and the four PRF checks."""
    import json

    from pulse.schemas.ratings import RatingInSchema
    from pulse.services.tokens.spending import Presented, SlotToken, TokenProof, invalid_fields

    schema, repeat = RatingInSchema(), 2000

    def load(body: dict[str, Any]) -> float:
        raw = json.dumps(body)
        started = time.process_time()
        for _ in range(repeat):
            schema.load(json.loads(raw))
        return (time.process_time() - started) * 1000 / repeat

    parse = load(token_body) - load(open_body)
    data = schema.load(token_body)

    def presented(part: dict[str, Any]) -> Presented:
        return Presented(part["nonce"], part["authenticator"])

    proof = TokenProof(
        SlotToken(
            data["token"]["nonce"], data["token"]["authenticator"], WEDNESDAY, data["token"]["band_id"]
        ),
        presented(data["week_pseudonym"]),
        presented(data["day_pseudonym"]),
        presented(data["orgweek_pseudonym"]),
    )
    team_id = next(t for t, code in setup.join_codes.items() if code == token_body["join_code"])
    with setup.app.app_context():
        from pulse.api.tokens import seed_cache

        with setup.app.extensions["pulse"].session_factory() as session:
            seeds = seed_cache().get(session, [WEEK], create=False)
    assert invalid_fields(seeds, team_id, proof) == []
    started = time.process_time()
    for _ in range(repeat):
        invalid_fields(seeds, team_id, proof)
    return parse, (time.process_time() - started) * 1000 / repeat


def ms(seconds: float, count: int) -> float:
    return seconds * 1000 / max(count, 1)


def run(args: argparse.Namespace) -> None:
    from tests.phone import slot_id

    with throwaway_database(args.admin_url) as url:
        clock = Clock(MONDAY_EARLY_MORNING)
        setup = seed(url, clock, args.teams, args.people)
        admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
        cpu = ServerCpu(admin, make_url(url).database or "")
        try:
            print(
                f"{args.people} people on {args.teams} teams, one phone each; PostgreSQL, in-process Pulse."
            )
            phones, app_s, db_s = issue_weeks(setup, cpu)
            per_person = ms(app_s + db_s, len(phones))
            print("\nIssuing a week of tokens (30 blind evaluations with proofs), per person, server CPU:")
            print(
                f"  application {ms(app_s, len(phones)):6.2f} ms + database {ms(db_s, len(phones)):5.2f} ms"
                f" = {per_person:6.2f} ms   (target <= {ISSUE_TARGET_MS:.0f} ms: "
                f"{'PASS' if per_person <= ISSUE_TARGET_MS else 'FAIL'})"
            )
            minutes = TRUST_STAFF * per_person / 1000 / CORES / 60
            print(
                f"  a {TRUST_STAFF:,}-staff trust's Monday (everyone fetching their week), extrapolated from "
                f"these {len(phones):,}: {minutes:.1f} minutes of {CORES} cores' CPU"
            )

            clock.now = WEDNESDAY_EARLY
            early = setup.bands["Early"]
            token_bodies = [
                phone.rating_body(setup.join_codes[team_id], team_id, WEDNESDAY, early)
                for phone, (team_id, _) in zip(phones, setup.credentials, strict=True)
            ]
            assert all(
                slot_id(t, WEDNESDAY, early) in p.tokens
                for p, (t, _) in zip(phones, setup.credentials, strict=True)
            )
            open_bodies = [
                open_body(setup.join_codes[setup.team_ids[i % args.teams]]) for i in range(args.people)
            ]
            batch = args.people // args.rounds
            totals = {"open": [0.0, 0.0, 0], "token": [0.0, 0.0, 0]}
            for r in range(args.rounds):
                modes = [("open", open_bodies), ("token", token_bodies)]
                for mode, bodies in modes if r % 2 == 0 else modes[::-1]:  # ABBA: drift cancels out
                    set_mode(setup, verified=mode == "token")
                    chunk = bodies[r * batch : (r + 1) * batch]
                    app_s, db_s = rate(setup, cpu, chunk)
                    totals[mode][0] += app_s
                    totals[mode][1] += db_s
                    totals[mode][2] += len(chunk)
            print("\nA rating, server CPU per rating (the same run, alternating batches):")
            per = {}
            for mode, (app_s, db_s, count) in totals.items():
                per[mode] = ms(app_s + db_s, int(count))
                print(
                    f"  {mode:5}  application {ms(app_s, int(count)):5.3f} ms + database "
                    f"{ms(db_s, int(count)):5.3f} ms = {per[mode]:5.3f} ms  ({int(count)} ratings)"
                )
            extra = per["token"] - per["open"]
            print(
                f"  spending a token adds {extra:+.3f} ms (target <= +{SPEND_TARGET_MS} ms: "
                f"{'PASS' if extra <= SPEND_TARGET_MS else 'FAIL'})"
            )
            parse, checks = token_steps(setup, open_bodies[0], token_bodies[0])
            print(
                f"  of which, measured alone: reading the larger body {parse:+.3f} ms, checking the token "
                f"and its three pseudonyms {checks:.3f} ms"
            )
        finally:
            setup.app.extensions["pulse"].engine.dispose()
            admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
