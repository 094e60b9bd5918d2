"""Dashboard benchmark: the Dash pages' callbacks and their first render in Chromium, on a large trust.

    python benchmarks/dashboard.py [--weeks 156] [--teams 800] [--departments 40] [--quick]
                                    [--runs 20] [--loads 5] [--skip-browser] [--profile]

Builds and publishes the "large trust" of benchmarks/publication.py (its generator and publication, in a
throwaway PostgreSQL database that is dropped at the end), then mounts the dashboard on the Pulse app with
the clock fixed just after the last week closed, and measures:

1. each page callback's server time, called in-process inside app.test_request_context() (so that the
   request's database session is opened and closed as in a request) with the ranges 12, 52 and "all" and
   random departments and teams, including serialising the returned figures to JSON as Dash does;
2. the organisation callback's round trip through Dash's dispatch: POST /dashboard/_dash-update-component
   through the Flask test client, with the payload the renderer sends (built from GET
   /dashboard/_dash-dependencies); and the page shell and /dashboard/_dash-layout, which every load fetches;
3. the first render of the organisation, a department and a team page in headless Chromium (desktop
   viewport, a fresh browser context per load, so nothing is cached): from navigation start until every
   chart has drawn its figure and every summary holds text, and the bytes the page transferred.

Prints a table with the targets and exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import importlib
import io
import json
import logging
import os
import pstats
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from dash import dcc
from dash._utils import to_json
from flask import Flask
from ingest import DEFAULT_ADMIN_URL, LOOPBACK, throwaway_database
from publication import (
    LAST_WEEK,
    SEED,
    Timing,
    build_organisation,
    closes,
    generate,
    percentile,
    print_targets,
    publish,
    vacuum_analyze,
)
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pulse import create_app, migrate
from pulse.config import Settings
from pulse.db import make_engine

# Run as a script, this file's folder comes first on sys.path, where "dashboard" names this very file (and
# ingest and publication, imported above, are found). From here on "dashboard" must be the project's package.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]

CALLBACK_P95_TARGET_MS = 300.0
FIRST_RENDER_TARGET_S = 2.0
RANGES = ("12", "52", "all")
RUNS = 20  # timed calls per callback and range
WARM_UP = 3
LOADS = 5  # browser loads per page
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
RENDER_TIMEOUT_MS = 30_000
PLOTLY_JS_URL = "**/_dash-component-suites/plotly/package_data/plotly.min.js*"
AS_SERVED = "as served"
PAGES = {  # page module: its chart callback
    "organisation": "update_organisation_charts",
    "department": "update_department_charts",
    "team": "update_team_chart",
}
# True once every chart has drawn the figure from its callback and every summary holds text. Counting
# .main-svg elements cannot tell: a dcc.Graph draws an empty plot, three .main-svg layers, as soon as
# plotly.js is loaded, before its figure arrives (5 plots and 15 .main-svg on the organisation page while its
# callback is held back). Every figure of dashboard/figures.py has a title, which Plotly draws as .gtitle.
RENDERED = """
([graphs]) => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const drawn = plots.filter(p => p.querySelector('.main-svg') && p.querySelector('.main-svg .gtitle'));
  const summaries = [...document.querySelectorAll('figcaption.summary')];
  if (plots.length !== graphs || drawn.length !== graphs) return false;
  if (summaries.length !== graphs || summaries.some(s => !s.textContent.trim())) return false;
  return {ms: performance.now(), mainSvgs: document.querySelectorAll('.js-plotly-plot .main-svg').length};
}
"""
LONG_TASKS = """
window.__pulseLongTasks = [];
new PerformanceObserver(list => list.getEntries().forEach(
  e => window.__pulseLongTasks.push([e.startTime, e.duration])
)).observe({type: 'longtask', buffered: true});
"""
# Milestones of a load, in ms from navigation start (resource timing: when each response had arrived).
MILESTONES = """
(renderedMs) => {
  const done = (test) => Math.max(0, ...performance.getEntriesByType('resource')
    .filter(r => test.test(r.name) && r.startTime < renderedMs).map(r => r.responseEnd));
  const tasks = window.__pulseLongTasks.filter(([start]) => start < renderedMs);
  return {
    html: performance.getEntriesByType('navigation')[0].responseEnd,
    dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
    layout: done(/_dash-layout/),
    plotlyjs: done(/plotly[^/]*[.]js/),
    callbacks: done(/_dash-update-component/),
    longest: Math.max(0, ...tasks.map(([, d]) => d)),
    blocked: tasks.reduce((sum, [, d]) => sum + d, 0),
  };
}
"""
MILESTONE_LABELS = {
    "html": "index HTML received",
    "dcl": "DOMContentLoaded (Dash's scripts run)",
    "layout": "_dash-layout received",
    "plotlyjs": "plotly.js received",
    "callbacks": "last callback response received",
    "longest": "longest main-thread task (duration)",
    "blocked": "long tasks in all (duration)",
}


# --- the dataset ---------------------------------------------------------------------------------------


@dataclass
class Dataset:
    url: str
    now: dt.datetime
    weeks: list[dt.date]
    department_ids: list[int]
    team_ids: list[int]
    staff: int
    build_s: float


@contextmanager
def large_trust(admin_url: str, teams: int, departments: int, weeks: int) -> Iterator[Dataset]:
    """benchmarks/publication.py's organisation and history, generated and published once; dropped after."""
    mondays = [LAST_WEEK - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    rng = random.Random(SEED)
    with throwaway_database(admin_url) as url:
        print(f"Database {make_url(url).database}: {teams} teams, {departments} departments, {weeks} weeks")
        start = time.perf_counter()
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            with Session(engine) as session:
                org = build_organisation(session, teams, departments, rng)
            print("  generating the tallies through apply_delta ...", flush=True)
            generated = generate(engine, org, mondays, rng)
            if not generated.consistent:
                raise RuntimeError("the organisation's shift tallies differ from the teams' tallies")
            vacuum_analyze(engine)
            print(f"  done in {generated.total_s:.1f} s; publishing ...", flush=True)
            settings = Settings(database_url=url, env="test")
            published = publish(engine, mondays, settings)
            vacuum_analyze(engine)
            with Session(engine) as session:
                now = closes(session, mondays[-1], settings)
            print(f"  published {published.due_weeks + 1} weeks", flush=True)
        finally:
            engine.dispose()
        build_s = time.perf_counter() - start
        yield Dataset(
            url,
            now,
            mondays,
            [d.id for d in org.departments],
            [t.id for t in org.teams],
            org.staff,
            build_s,
        )


# --- 1. callbacks in-process ---------------------------------------------------------------------------


@dataclass
class CallbackTiming:
    total: Timing  # the callback and to_json, ms
    data_ms: list[float]  # dashboard.data's fetch within each call
    json_ms: list[float]
    json_bytes: list[int]
    cpu_ms: list[float]  # CPU time of this process (not PostgreSQL's): what other load cannot inflate

    @property
    def figures_p50(self) -> float:
        """Median of the rest: building figures and summaries (and the request context)."""
        rest = [t - d - j for t, d, j in zip(self.total.samples, self.data_ms, self.json_ms, strict=True)]
        return percentile(rest, 0.5)


class DataClock:
    """Times dashboard.data's fetching functions while a callback runs, by wrapping them in place."""

    def __init__(self) -> None:
        import dashboard.data

        self.module = dashboard.data
        self.spent = 0.0
        self.originals: dict[str, Callable[..., Any]] = {}

    def __enter__(self) -> DataClock:
        for name in ("organisation", "department", "team"):
            original = getattr(self.module, name)
            self.originals[name] = original
            setattr(self.module, name, self._timed(original))
        return self

    def __exit__(self, *_exc: object) -> None:
        for name, original in self.originals.items():
            setattr(self.module, name, original)

    def _timed(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args)
            finally:
                self.spent += (time.perf_counter() - start) * 1000

        return timed


def page_modules() -> dict[str, Any]:
    """The page modules: Dash imports them when the app is created, so import them only after that."""
    return {page: importlib.import_module(f"dashboard.pages.{page}") for page in PAGES}


def call_once(app: Flask, function: Callable[[], Any], clock: DataClock) -> list[float]:
    """One call as in a request: its own request context, hence its own database session; then to_json."""
    clock.spent = 0.0
    cpu = time.process_time()
    start = time.perf_counter()
    with app.test_request_context("/dashboard/_dash-update-component", method="POST"):
        outputs = function()
    called = time.perf_counter()
    body = to_json(outputs)  # what Dash's dispatch does with the outputs it answers with
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    return [(done - start) * 1000, clock.spent, (done - called) * 1000, len(body), cpu * 1000]


def measure(
    app: Flask, label: str, function: Callable[[], Callable[[], Any]], runs: int, target: float | None
) -> CallbackTiming:
    """`function()` gives the call to time (drawing a random unit each time); warm-up first."""
    with DataClock() as clock:
        for _ in range(WARM_UP):
            call_once(app, function(), clock)
        gc.collect()
        samples = [call_once(app, function(), clock) for _ in range(runs)]
    total, data_ms, json_ms, size, cpu_ms = (list(column) for column in zip(*samples, strict=True))
    timing = CallbackTiming(Timing(label, total, target), data_ms, json_ms, [int(s) for s in size], cpu_ms)
    print(f"  {label}: p95 {timing.total.p95:.0f} ms", flush=True)
    return timing


def time_callbacks(app: Flask, data: Dataset, runs: int, rng: random.Random) -> list[CallbackTiming]:
    """Each page's chart callback for each range, then (no target) each page's layout function.

    Dash pages builds a page's layout in a callback of its own on every page load, before the chart
    callbacks can run: it is on the way to the first render too.
    """
    modules = page_modules()

    def chart_call(page: str, choice: str) -> Callable[[], Any]:
        callback = getattr(modules[page], PAGES[page])
        if page == "department":
            return partial(callback, choice, rng.choice(data.department_ids))
        if page == "team":
            return partial(callback, choice, rng.choice(data.team_ids))
        return partial(callback, choice)

    timings = []
    for page, name in PAGES.items():
        unit = {"organisation": "", "department": ", dept", "team": ", team"}[page]
        for choice in RANGES:
            label = f"{name}({choice!r}{unit})"
            call = partial(chart_call, page, choice)
            timings.append(measure(app, label, call, runs, CALLBACK_P95_TARGET_MS))
    layouts = {
        "organisation": lambda: partial(modules["organisation"].layout, weeks="52"),
        "department": lambda: partial(
            modules["department"].layout, department_id=str(rng.choice(data.department_ids)), weeks="52"
        ),
        "team": lambda: partial(modules["team"].layout, team_id=str(rng.choice(data.team_ids)), weeks="52"),
    }
    for page, call in layouts.items():
        timings.append(measure(app, f"pages.{page}.layout (page content)", call, runs, None))
    return timings


def profile_callbacks(app: Flask, data: Dataset, rng: random.Random) -> None:
    """cProfile of each chart callback's largest case (range "all"), five calls each."""
    modules = page_modules()
    cases = {
        "organisation": ("all",),
        "department": ("all", rng.choice(data.department_ids)),
        "team": ("all", rng.choice(data.team_ids)),
    }
    with DataClock() as clock:
        for page, args in cases.items():
            call = partial(getattr(modules[page], PAGES[page]), *args)
            call_once(app, call, clock)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                call_once(app, call, clock)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
            stats.print_stats(30)
            print(f"\nProfile: {PAGES[page]}{args}, 5 calls (each with to_json), by cumulative time")
            print("\n".join(line for line in out.getvalue().splitlines()[4:] if line.strip()))


# --- 2. the HTTP round trip ----------------------------------------------------------------------------


def organisation_payload(app: Flask, choice: str) -> dict[str, Any]:
    """The body the renderer POSTs for the organisation charts, built from the callback list it is served.

    The callback is the one whose outputs include the organisation's trend; its one input holds the range.
    """
    response = app.test_client().get("/dashboard/_dash-dependencies")
    if response.status_code != 200:
        raise RuntimeError(f"GET /dashboard/_dash-dependencies: {response.status_code}")
    for dependency in response.get_json():
        output = dependency["output"]
        if "..org-trend-graph.figure..." not in output:
            continue
        if len(dependency["inputs"]) != 1 or dependency["state"]:
            raise RuntimeError(f"the organisation's callback changed: {dependency}")
        (range_input,) = dependency["inputs"]
        outputs = []
        for spec in output.strip(".").split("..."):  # "..a.figure...b.children.." for several outputs
            component, prop = spec.rsplit(".", 1)
            outputs.append({"id": component, "property": prop})
        return {
            "output": output,
            "outputs": outputs,
            "inputs": [{"id": range_input["id"], "property": range_input["property"], "value": choice}],
            "changedPropIds": [],
            "state": [],
        }
    raise RuntimeError("no callback outputs the organisation's trend (org-trend-graph.figure)")


def time_requests(app: Flask, runs: int) -> list[tuple[Timing, int]]:
    """The organisation callback through Dash's dispatch for each range; the page shell and its layout."""
    client = app.test_client()

    def timed(label: str, send: Callable[[], Any], check: Callable[[bytes], None]) -> tuple[Timing, int]:
        def once() -> tuple[float, int]:
            start = time.perf_counter()
            response = send()
            body = response.get_data()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{label}: {response.status_code} {body[:500]!r}")
            check(body)
            return elapsed, len(body)

        for _ in range(WARM_UP):
            once()
        gc.collect()
        samples = [once() for _ in range(runs)]
        print(f"  {label}: p95 {percentile([s[0] for s in samples], 0.95):.0f} ms", flush=True)
        return Timing(label, [s[0] for s in samples]), samples[-1][1]

    def has_trend(body: bytes) -> None:
        if not json.loads(body)["response"]["org-trend-graph"]["figure"]["data"]:
            raise RuntimeError("the organisation's trend came back without data")

    def has_navigation(body: bytes) -> None:
        if b'"nav"' not in body:
            raise RuntimeError("the layout has no navigation")

    results = []
    for choice in RANGES:
        payload = organisation_payload(app, choice)
        results.append(
            timed(
                f"POST _dash-update-component, organisation {choice!r}",
                partial(client.post, "/dashboard/_dash-update-component", json=payload),
                has_trend,
            )
        )
    results.append(timed("GET /dashboard/ (the page shell)", partial(client.get, "/dashboard/"), bool))
    results.append(
        timed("GET /dashboard/_dash-layout", partial(client.get, "/dashboard/_dash-layout"), has_navigation)
    )
    return results


# --- 3. first render in Chromium -----------------------------------------------------------------------


@dataclass
class Load:
    render_s: float  # navigation start -> every chart drawn and every summary filled
    wall_s: float  # the same as timed from Python, for a cross-check
    milestones: dict[str, float]  # ms from navigation start, see MILESTONES
    requests: int
    transferred: int  # bytes on the wire: response headers and (encoded) bodies
    body: int  # decoded response bodies
    main_svgs: int
    largest: list[tuple[int, str, str]] = field(default_factory=list)  # bytes, path, headers worth seeing


@dataclass
class PageLoads:
    label: str
    path: str
    graphs: int
    loads: list[Load]

    @property
    def p50(self) -> float:
        return percentile([load.render_s for load in self.loads], 0.5)

    @property
    def max(self) -> float:
        return max(load.render_s for load in self.loads)

    def milestone(self, name: str) -> float:
        return percentile([load.milestones[name] for load in self.loads], 0.5)


def count_graphs(app: Flask, module: Any, **kwargs: str) -> int:
    """The dcc.Graphs in the page's layout, as Dash would build it for the path."""
    with app.test_request_context("/dashboard/"):
        layout = module.layout(**kwargs)
    return sum(isinstance(child, dcc.Graph) for child in layout._traverse())


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
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


def load_page(browser: Any, base: str, path: str, graphs: int, plotly_js: bytes | None = None) -> Load:
    """One load in a fresh context (empty cache); raises if the page does not render or a script fails.

    With `plotly_js`, the browser gets that bundle in place of the plotly.min.js that Dash serves.
    """
    context = browser.new_context(
        base_url=base, viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(RENDER_TIMEOUT_MS)
    context.add_init_script(LONG_TASKS)
    page = context.new_page()
    if plotly_js is not None:
        page.route(
            PLOTLY_JS_URL,
            lambda route: route.fulfill(body=plotly_js, content_type="application/javascript"),
        )
    responses: list[Any] = []
    errors: list[str] = []
    page.on("response", lambda response: responses.append(response))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        start = time.perf_counter()
        page.goto(path, wait_until="commit")
        done = page.wait_for_function(RENDERED, arg=[graphs], polling="raf", timeout=RENDER_TIMEOUT_MS)
        wall_s = time.perf_counter() - start
        rendered = done.json_value()
        if errors:
            raise RuntimeError(f"{path}: script errors {errors}")
        milestones = page.evaluate(MILESTONES, rendered["ms"])
        page.wait_for_load_state("networkidle")  # every response has finished, so their sizes are known
        transferred = body = 0
        largest = []
        for response in responses:
            sizes = response.request.sizes()
            transferred += sizes["responseHeadersSize"] + sizes["responseBodySize"]
            try:
                size = len(response.body())
            except Exception:  # a redirect has no body
                size = 0
            body += size
            headers = response.headers
            shown = ", ".join(
                f"{name}: {headers[name]}"
                for name in ("content-encoding", "cache-control")
                if name in headers
            )
            largest.append(
                (size, response.url.removeprefix(base), shown or "no compression, no cache-control")
            )
        return Load(
            rendered["ms"] / 1000,
            wall_s,
            milestones,
            len(responses),
            transferred,
            body,
            rendered["mainSvgs"],
            sorted(largest, reverse=True)[:3],
        )
    finally:
        context.close()


def time_first_render(
    app: Flask, data: Dataset, loads: int, rng: random.Random, plotly_js: Path | None
) -> dict[str, list[PageLoads]]:
    """Each page `loads` times; with `plotly_js`, also with that bundle, the two variants taking turns."""
    from playwright.sync_api import sync_playwright

    modules = page_modules()
    department = rng.choice(data.department_ids)
    team = rng.choice(data.team_ids)
    pages = [
        ("organisation", "/dashboard/", count_graphs(app, modules["organisation"])),
        (
            "department",
            f"/dashboard/department/{department}?weeks=52",
            count_graphs(app, modules["department"], department_id=str(department), weeks="52"),
        ),
        (
            "team",
            f"/dashboard/team/{team}?weeks=52",
            count_graphs(app, modules["team"], team_id=str(team), weeks="52"),
        ),
    ]
    variants: dict[str, bytes | None] = {AS_SERVED: None}
    if plotly_js is not None:
        variants[f"with {plotly_js.name} in place of plotly.min.js"] = plotly_js.read_bytes()
    results: dict[str, list[PageLoads]] = {variant: [] for variant in variants}
    with live_server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            load_page(browser, base, "/dashboard/", pages[0][2])  # warms the server and the OS file cache
            for label, path, graphs in pages:
                done: dict[str, list[Load]] = {variant: [] for variant in variants}
                for _ in range(loads):
                    for variant, bundle in variants.items():
                        done[variant].append(load_page(browser, base, path, graphs, bundle))
                for variant in variants:
                    results[variant].append(PageLoads(label, path, graphs, done[variant]))
                    print(f"  {path} ({variant}): p50 {results[variant][-1].p50:.2f} s", flush=True)
        finally:
            browser.close()
    return results


# --- the report ----------------------------------------------------------------------------------------


def print_renders(variant: str, pages: list[PageLoads], named: bool) -> None:
    if named:
        print(f"\n  {variant}:")
    print(
        f"  {'page':<36} {'graphs':>6} {'p50 s':>6} {'max s':>6} {'wall s':>6} {'reqs':>5} "
        f"{'MB wire':>8} {'MB body':>8}  target"
    )
    for r in pages:
        first = r.loads[0]
        wall = percentile([load.wall_s for load in r.loads], 0.5)
        print(
            f"  {r.path:<36} {r.graphs:>6} {r.p50:>6.2f} {r.max:>6.2f} {wall:>6.2f} {first.requests:>5} "
            f"{first.transferred / 1e6:>8.2f} {first.body / 1e6:>8.2f}  "
            + (f"< {FIRST_RENDER_TARGET_S:.0f} s" if variant == AS_SERVED else "(what if)")
        )
    print("\n  Where the time goes (p50 of the loads, ms from navigation start)")
    print(f"  {'milestone':<44}" + "".join(f" {r.label:>13}" for r in pages))
    for name, label in MILESTONE_LABELS.items():
        print(f"  {label:<44}" + "".join(f" {r.milestone(name):>13.0f}" for r in pages))
    print(f"  {'every chart drawn':<44}" + "".join(f" {r.p50 * 1000:>13.0f}" for r in pages))


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
        print(
            f"\n3. First render in headless Chromium {VIEWPORT['width']}x{VIEWPORT['height']}, a fresh "
            f"context (empty cache) per load, {args.loads} loads per page:\n"
            "   navigation start -> every chart drawn (its .main-svg with the figure's title) and every "
            "summary filled"
        )
        for variant, pages in renders.items():
            print_renders(variant, pages, len(renders) > 1)
            if variant != AS_SERVED:
                continue
            for r in pages:
                checks.append(
                    (
                        f"first render, {r.label} page (max)",
                        f"< {FIRST_RENDER_TARGET_S:.0f} s",
                        f"{r.max:.2f} s",
                        r.max < FIRST_RENDER_TARGET_S,
                    )
                )
        served = renders[AS_SERVED]
        print(
            "\n  wall s: p50 timed from Python (goto -> condition seen); MB wire: page weight of the first "
            "load,\n  response headers and bodies as transferred; MB body: the bodies decoded; "
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
    parser.add_argument("--weeks", type=int, default=None, help="ISO weeks of tallies (default 156)")
    parser.add_argument("--teams", type=int, default=None, help="teams (default 800)")
    parser.add_argument("--departments", type=int, default=None, help="departments (default 40)")
    parser.add_argument(
        "--quick", action="store_true", help="a fast check: 52 weeks, 200 teams, 10 departments"
    )
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed calls per callback and range ({RUNS})")
    parser.add_argument("--loads", type=int, default=LOADS, help=f"browser loads per page ({LOADS})")
    parser.add_argument("--skip-browser", action="store_true", help="leave out the first render in Chromium")
    parser.add_argument(
        "--plotly-js",
        type=Path,
        metavar="FILE",
        help="also load each page with this plotly.js bundle in place of plotly.min.js (a what-if)",
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile of each callback's 'all' case")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL that may create databases")
    args = parser.parse_args(argv)
    defaults = (52, 200, 10) if args.quick else (156, 800, 40)
    args.weeks = args.weeks or defaults[0]
    args.teams = args.teams or defaults[1]
    args.departments = args.departments or defaults[2]
    if args.weeks < 2:
        parser.error("--weeks must be at least 2")
    if not 1 <= args.departments <= args.teams:
        parser.error("need at least one department and at least as many teams as departments")
    if args.runs < 1 or args.loads < 1:
        parser.error("--runs and --loads must be at least 1")
    if args.plotly_js is not None and not args.plotly_js.is_file():
        parser.error(f"--plotly-js: no file {args.plotly_js}")
    if make_url(args.admin_url).host not in LOOPBACK:
        parser.error("this benchmark only talks to a PostgreSQL on this machine (127.0.0.1)")
    if not args.skip_browser and not CHROMIUM.exists():
        parser.error(f"the first render needs Chromium at {CHROMIUM} (or pass --skip-browser)")
    engine = make_engine(args.admin_url)
    try:
        with engine.connect() as conn:
            args.server = "PostgreSQL " + str(conn.scalar(text("SHOW server_version"))).split()[0]
    finally:
        engine.dispose()

    rng = random.Random(SEED + 2)
    with large_trust(args.admin_url, args.teams, args.departments, args.weeks) as data:
        app = create_app({"database_url": data.url, "env": "test", "now": lambda: data.now})
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
