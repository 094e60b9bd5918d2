"""Dashboard benchmark: the pages' server time and their first render in Chromium, cold and warm, and the
switch between ranges of weeks, on the demo trust or on a large one.

    python -m benchmarks.dashboard_pages --demo [--runs 20] [--loads 5] [--skip-browser] [--profile]
    python -m benchmarks.dashboard_pages [--weeks 156] [--teams 800] [--departments 40] [--quick] ...

With --demo: the organisation `pulse demo` makes (12 departments, 60 teams, a year of ratings), seeded by that
very command into a throwaway SQLite file, read at the real time as the demo is. Without: the "large trust"
of benchmarks/large_trust.py, generated and published in a throwaway PostgreSQL database, the clock fixed just
after its last week closed. Then, with the dashboard mounted on the Pulse app, it measures:

1. each page's layout function, which fetches the page's figures and draws its charts (the page arrives with
   them), called in-process inside app.test_request_context() with the ranges 12, 52 and "all" and random
   departments and teams, including serialising the result to JSON as Dash does;
2. the requests of a page load through the Flask test client: the page shell, /dashboard/_dash-layout, and
   Dash Pages' own callback (POST /dashboard/_dash-update-component) that answers with a page's content;
3. in headless Chromium at 1366 x 768: each page's first render cold (a fresh browser context: empty cache)
   and warm (the same page opened again in that context), from navigation start until every chart has drawn
   its figure and every summary holds text; and each switch of the range of weeks on a rendered page, from
   the click until every chart has drawn its new figure.

Prints a table with the targets and exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
from pathlib import Path

from benchmarks.common.browser import CHROMIUM
from benchmarks.common.database import DEFAULT_ADMIN_URL, check_local, server_version
from benchmarks.common.report import print_targets
from benchmarks.common.statistics import Timing, percentile
from benchmarks.dashboard_browser import (
    AS_SERVED,
    COLD_TARGET_S,
    SWITCH_TARGET_S,
    VIEWPORT,
    WARM_TARGET_S,
    PageLoads,
    print_renders,
    time_first_render,
)
from benchmarks.dashboard_calls import (
    WARM_UP,
    CallbackTiming,
    profile_callbacks,
    time_callbacks,
    time_requests,
)
from benchmarks.dashboard_datasets import Dataset, demo_trust, large_trust
from benchmarks.large_trust import SEED, add_arguments, check_arguments
from pulse import create_app

RUNS = 20  # timed calls per callback and range
LOADS = 5  # browser loads per page


# --- the report ----------------------------------------------------------------------------------------


def print_report(
    args: argparse.Namespace,
    data: Dataset,
    callbacks: list[CallbackTiming],
    requests: list[tuple[Timing, int]],
    renders: dict[str, list[PageLoads]] | None,
    load_averages: dict[str, float],
) -> bool:
    checks: list[tuple[str, str, str, bool]] = []
    print()
    print(
        f"Pulse dashboard: {len(data.team_ids)} teams in {len(data.department_ids)} departments, "
        f"{data.staff:,} staff, {len(data.weeks)} published weeks ({data.weeks[0]} .. {data.weeks[-1]}), "
        f"{args.server}, {os.cpu_count()} CPU cores; dataset built and published in {data.build_s:.0f} s"
    )
    print(
        "Load average (1 min) as each part began: "
        + ", ".join(f"{part} {value:.1f}" for part, value in load_averages.items())
    )

    print(
        f"\n1. Server time in-process (app.test_request_context), {args.runs} calls after {WARM_UP} warm-up, "
        "random units, ms;\n   each call = the function + dash._utils.to_json of what it returns"
    )
    print(
        f"  {'function (range, unit)':<40} {'p50':>6} {'p95':>6} {'max':>6} {'cpu':>5} {'data':>5} "
        f"{'figs':>5} {'json':>5} {'KB':>4}  target"
    )
    for c in callbacks:
        t = c.total
        target = f"p95 < {t.target_ms:.0f} ms" if t.target_ms else "-"
        print(
            f"  {t.label:<40} {t.p50:>6.1f} {t.p95:>6.1f} {t.max:>6.1f} {percentile(c.cpu_ms, 0.5):>5.0f} "
            f"{percentile(c.data_ms, 0.5):>5.0f} {c.figures_p50:>5.0f} {percentile(c.json_ms, 0.5):>5.0f} "
            f"{percentile(c.json_bytes, 0.5) / 1024:>4.0f}  {target}"
        )
        if t.target_ms:
            checks.append((t.label, target, f"{t.p95:.1f} ms", t.passed))
    print(
        "  medians: cpu = this process's CPU time (PostgreSQL's not included, nor waiting for a core);\n"
        "  data = in dashboard.data; figs = the rest of the function (figures, summaries, request context);\n"
        "  json = in to_json; KB = the JSON"
    )

    print(
        f"\n2. Requests through the Flask test client (Dash's own dispatch), {args.runs} after {WARM_UP} "
        "warm-up, ms"
    )
    print(f"  {'request':<52} {'p50':>6} {'p95':>6} {'max':>6} {'KB':>6}")
    for timing, size in requests:
        print(
            f"  {timing.label:<52} {timing.p50:>6.1f} {timing.p95:>6.1f} {timing.max:>6.1f} "
            f"{size / 1024:>6.0f}"
        )

    if renders is None:
        print("\n3. First render in Chromium: skipped (--skip-browser)")
    else:
        cold_target = COLD_TARGET_S[args.dataset]
        print(
            f"\n3. Page renders in headless Chromium {VIEWPORT['width']}x{VIEWPORT['height']}, s: "
            f"{args.loads} cold loads per page (a fresh context: empty cache), each followed by 2 warm\n"
            "   loads (the page again in that context) and a range switch after each (a click on a range);\n"
            "   a load: navigation start -> every chart drawn (its .main-svg with the figure's title) and "
            "every summary filled;\n   a switch: the click -> every chart drawn with its new figure"
        )
        for variant, pages in renders.items():
            print_renders(variant, pages, len(renders) > 1, cold_target)
            if variant != AS_SERVED:
                continue
            for r in pages:
                warm, switch = percentile(r.warm, 0.5), percentile(r.switches, 0.5)
                checks += [
                    (f"cold first render, {r.label} (p50)", f"< {cold_target} s", f"{r.p50:.2f} s",
                     r.p50 < cold_target),
                    (f"warm render, {r.label} (p50)", f"< {WARM_TARGET_S} s", f"{warm:.2f} s",
                     warm < WARM_TARGET_S),
                    (f"range switch, {r.label} (p50)", f"< {SWITCH_TARGET_S} s", f"{switch:.2f} s",
                     switch < SWITCH_TARGET_S),
                ]  # fmt: skip
        served = renders[AS_SERVED]
        print(
            "\n  MB wire: page weight of the first cold load, response headers and bodies as transferred; "
            ".main-svg once drawn: " + ", ".join(f"{r.label} {r.loads[0].main_svgs}" for r in served)
        )
        print("\n  Largest responses (first load of each page, as served)")
        for r in served:
            for size, url, headers in r.loads[0].largest:
                print(f"    {r.label:<13} {size / 1e6:>5.2f} MB  {url[:72]}  [{headers}]")

    return print_targets(checks, width=48)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--demo", action="store_true", help="the trust `pulse demo` makes, on SQLite (the issue-15 targets)"
    )
    add_arguments(parser)
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed calls per callback and range ({RUNS})")
    parser.add_argument("--loads", type=int, default=LOADS, help=f"browser loads per page ({LOADS})")
    parser.add_argument("--skip-browser", action="store_true", help="leave out the first render in Chromium")
    parser.add_argument(
        "--plotly-js",
        type=Path,
        metavar="FILE",
        help="also load each page with this plotly.js bundle in place of the dashboard's (a what-if)",
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile of each callback's 'all' case")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL that may create databases")
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    if args.runs < 1 or args.loads < 1:
        parser.error("--runs and --loads must be at least 1")
    if args.plotly_js is not None and not args.plotly_js.is_file():
        parser.error(f"--plotly-js: no file {args.plotly_js}")
    if not args.demo:
        check_local(parser, args.admin_url)
    if not args.skip_browser and not CHROMIUM.exists():
        parser.error(f"the first render needs Chromium at {CHROMIUM} (or pass --skip-browser)")
    args.dataset = "demo" if args.demo else "large"
    if args.demo:
        args.server = "SQLite " + sqlite3.sqlite_version
    else:
        args.server = server_version(args.admin_url)

    rng = random.Random(SEED + 2)
    dataset = (
        demo_trust() if args.demo else large_trust(args.admin_url, args.teams, args.departments, args.weeks)
    )
    with dataset as data:
        # The demo is read at the real time, as `pulse demo` serves it; the large trust after its last week.
        config = {"database_url": data.url, "env": "test"}
        app = create_app(config if args.demo else {**config, "now": lambda: data.now})
        load_averages: dict[str, float] = {}
        try:
            print("Timing the callbacks in-process ...", flush=True)
            load_averages["callbacks"] = os.getloadavg()[0]
            callbacks = time_callbacks(app, data, args.runs, rng)
            if args.profile:
                profile_callbacks(app, data, rng)
            print("Timing the HTTP round trip ...", flush=True)
            load_averages["requests"] = os.getloadavg()[0]
            requests = time_requests(app, args.runs)
            renders: dict[str, list[PageLoads]] | None = None
            if not args.skip_browser:
                print("Loading the pages in Chromium ...", flush=True)
                load_averages["browser"] = os.getloadavg()[0]
                renders = time_first_render(app, data, args.loads, rng, args.plotly_js)
        finally:
            app.extensions["pulse"].engine.dispose()
    return 0 if print_report(args, data, callbacks, requests, renders, load_averages) else 1


if __name__ == "__main__":
    sys.exit(main())
