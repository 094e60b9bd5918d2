"""The dashboard benchmark's server side: each page's layout function called in-process (it fetches the page's
figures and draws its charts), and the requests of a page load sent through the Flask test client to Dash's
own dispatch."""

from __future__ import annotations

import cProfile
import gc
import importlib
import io
import pstats
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from dash._utils import to_json
from flask import Flask

from benchmarks.common.statistics import Timing, percentile
from benchmarks.dashboard_datasets import Dataset

CALLBACK_P95_TARGET_MS = 300.0
RANGES = ("12", "52", "all")
WARM_UP = 3
PAGES = ("organisation", "department", "team")  # page modules; each one's layout() fetches and draws


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


def layout_call(modules: dict[str, Any], data: Dataset, rng: random.Random, page: str, choice: str) -> Any:
    layout = modules[page].layout
    if page == "department":
        return partial(layout, department_id=str(rng.choice(data.department_ids)), weeks=choice)
    if page == "team":
        return partial(layout, team_id=str(rng.choice(data.team_ids)), weeks=choice)
    return partial(layout, weeks=choice)


def time_callbacks(app: Flask, data: Dataset, runs: int, rng: random.Random) -> list[CallbackTiming]:
    """Each page's layout (its figures fetched and drawn) for each range: what Dash Pages' callback runs."""
    modules = page_modules()
    timings = []
    for page in PAGES:
        unit = {"organisation": "", "department": ", dept", "team": ", team"}[page]
        for choice in RANGES:
            label = f"{page}.layout({choice!r}{unit})"
            call = partial(layout_call, modules, data, rng, page, choice)
            timings.append(measure(app, label, call, runs, CALLBACK_P95_TARGET_MS))
    return timings


def profile_callbacks(app: Flask, data: Dataset, rng: random.Random) -> None:
    """cProfile of each page's largest case (range "all"), five calls each."""
    modules = page_modules()
    with DataClock() as clock:
        for page in PAGES:
            call = layout_call(modules, data, rng, page, "all")
            call_once(app, call, clock)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                call_once(app, call, clock)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
            stats.print_stats(30)
            print(f"\nProfile: {page}.layout('all'), 5 calls (each with to_json), by cumulative time")
            print("\n".join(line for line in out.getvalue().splitlines()[4:] if line.strip()))


# --- 2. the HTTP round trip ----------------------------------------------------------------------------


def page_payload(app: Flask, path: str) -> dict[str, Any]:
    """The body the renderer POSTs to Dash Pages' callback for a page's content, from the callback list."""
    response = app.test_client().get("/dashboard/_dash-dependencies")
    if response.status_code != 200:
        raise RuntimeError(f"GET /dashboard/_dash-dependencies: {response.status_code}")
    for dependency in response.get_json():
        output = dependency["output"]
        if "_pages_content.children" not in output:
            continue
        outputs = []
        for spec in output.strip(".").split("..."):  # "..a.children...b.data.." for several outputs
            component, prop = spec.rsplit(".", 1)
            outputs.append({"id": component, "property": prop})
        pathname, _, search = path.partition("?")
        values = {"pathname": pathname, "search": f"?{search}" if search else ""}
        inputs = [{**i, "value": values[i["property"]]} for i in dependency["inputs"]]
        return {"output": output, "outputs": outputs, "inputs": inputs, "changedPropIds": [], "state": []}
    raise RuntimeError("no callback outputs the page content (_pages_content.children)")


def time_requests(app: Flask, runs: int) -> list[tuple[Timing, int]]:
    """The organisation page's content through Dash's dispatch for each range; the page shell, its layout."""
    client = app.test_client()

    def timed(label: str, send: Callable[[], Any], check: Callable[[bytes], object]) -> tuple[Timing, int]:
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

    def has_charts(body: bytes) -> None:
        if b'"type":"Graph"' not in body.replace(b" ", b""):
            raise RuntimeError("the page came back without its charts")

    def has_navigation(body: bytes) -> None:
        if b'"nav"' not in body:
            raise RuntimeError("the layout has no navigation")

    results = []
    for choice in RANGES:
        payload = page_payload(app, f"/dashboard/?weeks={choice}")
        results.append(
            timed(
                f"POST _dash-update-component, organisation page {choice!r}",
                partial(client.post, "/dashboard/_dash-update-component", json=payload),
                has_charts,
            )
        )
    results.append(timed("GET /dashboard/ (the page shell)", partial(client.get, "/dashboard/"), bool))
    results.append(
        timed("GET /dashboard/_dash-layout", partial(client.get, "/dashboard/_dash-layout"), has_navigation)
    )
    return results
