"""Anonymous tokens: the server's CPU to issue a week of tokens and to check one; the browser's time.

    python -m benchmarks.tokens [--people 200] [--checks 2000] [--rounds 5] [--staff 20000]

Server (this process, `time.process_time`): issuing one person's week is 29 blind evaluations with their
DLEQ proofs, each under its own derived key: 21 slot tokens (3 bands x 7 days), 1 weekly contributor
pseudonym and 7 organisation-day pseudonyms. Measured with a cold key cache (every key derived again, as for
the first person of a team) and a warm one (the team's keys already derived, as for the rest of the team).
Checking one token (`verify_token`) is measured with a warm and a cold key cache. A 20,000-staff trust's
Monday issuance is the cold figure times the staff count, over 2 cores: an upper bound, as most people share
their team's keys.

Browser (headless Chromium, Debian's /usr/bin/chromium): tokens.js prepares 29 tokens under 29 keys, the
server half evaluates them (not timed), tokens.js finishes them (checks each proof, unblinds). Timed in the
page with performance.now(), at full speed and with the CPU throttled 4x (DevTools
`Emulation.setCPUThrottlingRate`), a rough stand-in for a cheap phone. Files come from the working tree
through Playwright's routing, no server; tests/browser/tokens/harness.js drives tokens.js, as in the tests.

Prints its figures; checks nothing (issue 16's target is printed beside them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import mimetypes
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

from voprf import ristretto

from benchmarks.common import ROOT
from benchmarks.common.browser import CHROMIUM, launch_chromium
from benchmarks.common.statistics import percentile
from pulse.services.tokens import (
    build_day_info,
    build_slot_info,
    build_token_input,
    build_week_info,
    clear_key_cache,
    decode_base64url,
    derive_public_key,
    encode_base64url,
    evaluate_blinded,
    verify_token,
)

STATIC = ROOT / "pulse" / "web" / "static"
HARNESS = ROOT / "tests" / "browser" / "tokens" / "harness.js"
ORIGIN = "http://pulse.test"
WEEK = dt.date(2026, 11, 16)  # a Monday
BANDS = (1, 2, 3)
ISSUE_TARGET_MS = 30.0  # issue 16: issuing a week's tokens costs at most 30 ms of server CPU per person
CORES = 2


def week_infos(team_id: int) -> list[bytes]:
    """The 29 keys of one person's week in one team: 21 slots, the team-week, 7 organisation days."""
    days = [WEEK + dt.timedelta(days=n) for n in range(7)]
    slots = [build_slot_info(team_id, day, band) for day in days for band in BANDS]
    return [*slots, build_week_info(team_id, WEEK), *(build_day_info(day) for day in days)]


def blinded_requests(seed: bytes, infos: list[bytes]) -> list[bytes]:
    """What a device sends for `infos` (made with the Python client; not timed)."""
    requests = []
    for info in infos:
        token_input = build_token_input(derive_public_key(seed, info), secrets.token_bytes(32))
        _, blinded = ristretto.Client.blind(token_input)
        requests.append(blinded.serialize())
    return requests


def cpu_ms(work: Callable[[], Any], repeat: int = 1) -> float:
    started = time.process_time()
    for _ in range(repeat):
        work()
    return (time.process_time() - started) * 1000 / repeat


def summary(samples: list[float]) -> str:
    median, mean, p95 = statistics.median(samples), statistics.fmean(samples), percentile(samples, 0.95)
    return f"median {median:7.3f}  mean {mean:7.3f}  p95 {p95:7.3f}"


def measure_issuance(seed: bytes, people: int) -> tuple[list[float], list[float]]:
    cold, warm = [], []
    for person in range(people):
        infos = week_infos(team_id=person + 1)
        requests = blinded_requests(seed, infos)

        def issue_week(infos: list[bytes] = infos, requests: list[bytes] = requests) -> None:
            for info, blinded in zip(infos, requests, strict=True):
                evaluate_blinded(seed, info, blinded)

        clear_key_cache()
        cold.append(cpu_ms(issue_week))
        warm.append(cpu_ms(issue_week))
    return cold, warm


def measure_checks(seed: bytes, checks: int) -> tuple[float, float]:
    info = build_slot_info(1, WEEK, 1)
    public_key = derive_public_key(seed, info)
    nonce = secrets.token_bytes(32)
    client, blinded = ristretto.Client.blind(build_token_input(public_key, nonce))
    evaluation = evaluate_blinded(seed, info, blinded.serialize())
    output = ristretto.VerifiableOutput.deserialize(evaluation[35:] + evaluation[2:34])
    authenticator = client.finalize(output, ristretto.PublicKey.deserialize(public_key))
    assert verify_token(seed, info, nonce, authenticator)

    warm = cpu_ms(lambda: verify_token(seed, info, nonce, authenticator), checks)

    def cold_check() -> None:
        clear_key_cache()
        verify_token(seed, info, nonce, authenticator)

    cold = cpu_ms(cold_check, checks)
    return warm, cold


def measure_browser(seed: bytes, rounds: int) -> dict[int, list[tuple[float, float]]]:
    """{throttling rate: [(prepare ms, finish ms) per round]} for 29 tokens under 29 keys."""
    from playwright.sync_api import Route, sync_playwright

    page_html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tokens benchmark</title>'
        '<script type="module" src="/__tokens__/harness.js"></script></head><body></body></html>'
    )

    def fulfil(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if path == "/__tokens__/harness.js":
            route.fulfill(body=HARNESS.read_text(), content_type="text/javascript")
        elif path.startswith("/r/static/"):
            file = STATIC / path.removeprefix("/r/static/")
            route.fulfill(body=file.read_bytes(), content_type=mimetypes.guess_type(file.name)[0])
        elif path == "/__tokens__/":
            route.fulfill(body=page_html, content_type="text/html")
        else:
            route.fulfill(status=404)

    infos = week_infos(team_id=1)
    keys = [encode_base64url(derive_public_key(seed, info)) for info in infos]
    results: dict[int, list[tuple[float, float]]] = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for rate in (1, 4):
                context = browser.new_context()
                page = context.new_page()
                page.route(f"{ORIGIN}/**", fulfil)
                page.goto(f"{ORIGIN}/__tokens__/")
                page.wait_for_selector("html[data-harness=ready]", state="attached")
                context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": rate})
                results[rate] = []
                for round_ in range(rounds + 1):  # the first round warms the JIT up and is not counted
                    prepared = page.evaluate("keys => window.tokensHarness.prepareMany(keys)", keys)
                    items = [
                        {
                            "id": item["id"],
                            "evaluationB64": encode_base64url(
                                evaluate_blinded(seed, info, decode_base64url(item["blindedB64"]))
                            ),
                            "publicKeyB64": key,
                        }
                        for item, info, key in zip(prepared["prepared"], infos, keys, strict=True)
                    ]
                    finished = page.evaluate("items => window.tokensHarness.finishMany(items)", items)
                    for item, token, info in zip(items, finished["finished"], infos, strict=True):
                        if "authenticatorB64" not in token:
                            raise SystemExit(f"the page refused a token: {token} ({item['id']})")
                        nonce, tag = (
                            decode_base64url(token["nonceB64"]),
                            decode_base64url(token["authenticatorB64"]),
                        )
                        if not verify_token(seed, info, nonce, tag):
                            raise SystemExit("the server refused a token the page made")
                    if round_:
                        results[rate].append((prepared["ms"], finished["ms"]))
                context.close()
        finally:
            browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=200, help="people whose week is issued (200)")
    parser.add_argument("--checks", type=int, default=2000, help="token checks timed per cache state (2000)")
    parser.add_argument("--rounds", type=int, default=5, help="browser rounds of 29 tokens per speed (5)")
    parser.add_argument(
        "--staff", type=int, default=20_000, help="staff of the trust for the Monday estimate"
    )
    parser.add_argument("--skip-browser", action="store_true", help="server figures only")
    args = parser.parse_args(argv)
    if min(args.people, args.checks, args.rounds, args.staff) < 1:
        parser.error("--people, --checks, --rounds and --staff must be at least 1")
    if not args.skip_browser and not CHROMIUM.exists():
        parser.error(f"the browser half needs Chromium at {CHROMIUM} (or --skip-browser)")

    seed = secrets.token_bytes(32)
    print(f"Server CPU, ms (time.process_time), {args.people} people, 29 evaluations each:")
    cold, warm = measure_issuance(seed, args.people)
    print(f"  issue a week, cold key cache   {summary(cold)}   target <= {ISSUE_TARGET_MS:.0f} ms")
    print(f"  issue a week, warm key cache   {summary(warm)}")
    warm_check, cold_check = measure_checks(seed, args.checks)
    print(f"  verify_token, warm key cache   {warm_check:7.4f} ms per token (mean of {args.checks})")
    print(f"  verify_token, cold key cache   {cold_check:7.4f} ms per token (mean of {args.checks})")
    monday_s = statistics.fmean(cold) * args.staff / 1000 / CORES
    print(
        f"  Monday issuance of {args.staff:,} staff, every key cold, cryptography only: "
        f"{monday_s:.0f} s ({monday_s / 60:.1f} min) on {CORES} cores, an upper bound"
    )

    if not args.skip_browser:
        print(f"Browser, headless Chromium, tokens.js, 29 tokens, ms (median of {args.rounds} rounds):")
        for rate, rounds in measure_browser(seed, args.rounds).items():
            prepare = statistics.median(p for p, _ in rounds)
            finish = statistics.median(f for _, f in rounds)
            label = "full speed" if rate == 1 else f"CPU / {rate}"
            print(
                f"  {label:<11} prepare {prepare:7.1f}  finish {finish:7.1f}  total {prepare + finish:7.1f}"
                f"  ({(prepare + finish) / 29:.1f} per token)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
