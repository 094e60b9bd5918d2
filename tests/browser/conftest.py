"""Real-browser fixtures: Debian's headless Chromium driven by Playwright, against Pulse on a local port.

Each pytest-xdist worker launches its own browser (session scope is per worker). Without /usr/bin/chromium the
browser tests are skipped, unless PULSE_REQUIRE_BROWSER=1 (CI sets it), when they fail instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy.engine import Engine
from werkzeug.serving import make_server

from tests.conftest import open_inbox, set_testing
from tests.shared_app import SharedApps

if TYPE_CHECKING:
    from tests.conftest import FakeClock

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# A host name that reaches the live server without looking local (some pages, Swagger UI for one, behave
# differently on a localhost URL). The browser alone maps it to 127.0.0.1: no DNS lookup, nothing leaves.
PUBLIC_LOOKING_HOST = "pulse.test"
HOST_RULES = f"--host-resolver-rules=MAP {PUBLIC_LOOKING_HOST} 127.0.0.1"

VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "laptop": {"viewport": {"width": 1366, "height": 768}},  # the commonest laptop screen
    "phone": {
        "viewport": {
            "width": 360,
            "height": 740,
        },  # a small Android phone: the narrowest the dashboard promises
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
# A wait in a browser test fails after this long: a broken page should fail in seconds, not in 30.
TIMEOUT_MS = 10_000
CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium chromium-driver)"
        if os.environ.get("PULSE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PULSE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, HOST_RULES]
        )
        yield browser
        browser.close()


# The live server's app: Pulse with the dashboard mounted. The browser reaches it as 127.0.0.1 and as
# PUBLIC_LOOKING_HOST: both are trusted hosts.
LIVE_SETTINGS = {"env": "test", "min_group_size": 5, "trusted_hosts": f"127.0.0.1,{PUBLIC_LOOKING_HOST}"}


@pytest.fixture
def live_server(clean_db: Engine, shared_apps: SharedApps, clock: FakeClock, tmp_path: Path) -> Iterator[str]:
    """Pulse with the dashboard mounted, served on 127.0.0.1 (a free port) by a threaded werkzeug server.

    The app is shared within the worker (tests/shared_app.py). It shares its data folder (the mixer's keys)
    with the `app` fixture of the same test, so that a test's `session` can mix what the page rated."""
    with shared_apps.get("live", LIVE_SETTINGS, set_testing).lent(clock, tmp_path / "pulse-data") as app:
        open_inbox(app)
        # Port 0: the kernel picks a free port. The socket is bound and listening once make_server returns, so
        # the server is ready without any wait; requests queue until serve_forever picks them up.
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="pulse-live-server", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join()
            server.server_close()


@pytest.fixture
def viewport() -> str:
    """The viewport of `page`: "desktop" unless a test parametrizes it, e.g. ["phone", "desktop"]."""
    return "desktop"


@pytest.fixture
def page(
    browser: Browser, live_server: str, viewport: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page in a fresh browser context (no shared cookies or storage), with the live server as base URL.

    Depending on live_server makes the context close before the server stops, so no request is cut off.
    On failure a screenshot is saved as failure.png in the test's tmp_path.
    """
    context: BrowserContext = browser.new_context(
        base_url=live_server, locale="en-GB", timezone_id="Europe/London", **VIEWPORTS[viewport]
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
        report = request.node.stash.get(CALL_REPORT, None)
        if report is not None and report.failed:
            path = tmp_path / "failure.png"
            page.screenshot(path=path, full_page=True)
            print(f"screenshot of the failing page: {path}")
    finally:
        context.close()


@pytest.fixture
def screenshot(page: Page, tmp_path: Path) -> Callable[[str], Path]:
    """screenshot("name") saves the whole page as tmp_path/name.png and returns the path."""

    def take(name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


def assert_no_axe_violations(page: Page, known: Mapping[str, str] | None = None) -> None:
    """Run axe-core on the page as it is now; fail with a readable report of each violation not in `known`.

    `known` maps axe rule ids to why they are tolerated for now. A known rule that no longer occurs fails the
    check too, so the list shrinks as fixes land instead of hiding new problems later.
    """
    known = dict(known or {})
    results = Axe().run(page)
    found = {violation["id"] for violation in results.response["violations"]}
    problems = [results.generate_report(rule) for rule in sorted(found - known.keys())]
    problems += [
        f"\nKnown violation {rule} no longer occurs: take it out of the known list ({known[rule]})."
        for rule in sorted(known.keys() - found)
    ]
    if problems:
        pytest.fail(f"axe-core on {page.url}:" + "".join(problems), pytrace=False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # Keep the call phase's report on the test item, so the page fixture can tell a failure at teardown.
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report
