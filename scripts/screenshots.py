"""The README's screenshots, taken in headless Chromium from the demo.

    python scripts/screenshots.py [--out docs/img]

Runs `pulse demo --no-serve` into a throwaway SQLite file, serves that Pulse on a free port of 127.0.0.1 (a
threaded werkzeug server), and photographs what a person sees: the organisation page and a department's
teams week by week at 1366 x 768, a team's rating page on a 360 px phone, and the ward poster. Needs
Debian's Chromium at /usr/bin/chromium and Playwright's Python package (the test extras); no browser is
downloaded.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from pulse import create_app
from pulse.cli import cli
from pulse.models import Department, Team

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
# True once every chart of the page has drawn its figure (its title) and every summary holds text.
DRAWN = """
() => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const summaries = [...document.querySelectorAll('figcaption.summary')];
  return plots.length > 0 && plots.every(p => p.querySelector('.main-svg .gtitle'))
    && summaries.length === plots.length && summaries.every(s => s.textContent.trim());
}
"""


@contextmanager
def demo() -> Iterator[tuple[str, str, int, str]]:
    """The demo in a throwaway database, served: (base URL, a team's join code, a department id, its name)."""
    with tempfile.TemporaryDirectory(prefix="pulse-screenshots-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        env = {"PULSE_DATABASE_URL": url, "PULSE_ENV": "development", "PULSE_SECRET_KEY": ""}
        result = CliRunner().invoke(cli, ["demo", "--no-serve"], env=env)
        if result.exit_code != 0:
            raise SystemExit(f"pulse demo failed: {result.output}")
        engine = create_engine(url)
        with Session(engine) as session:
            department = session.scalars(select(Department).where(Department.name == "Acute Medicine")).one()
            team = session.scalars(select(Team).where(Team.name == "Ward 7 (Respiratory)")).one()
            found = (team.join_code, department.id, department.name)
        engine.dispose()
        app = create_app({"database_url": url, "env": "test"})
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield (f"http://127.0.0.1:{server.server_port}", *found)
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
            app.extensions["pulse"].engine.dispose()


def dashboard(page: Page, path: str, out: Path, height: int) -> None:
    page.goto(path)
    page.wait_for_function(DRAWN, polling="raf", timeout=30_000)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out, clip={"x": 0, "y": 0, "width": 1366, "height": height}, full_page=True)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "img")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with demo() as (base, join_code, department_id, _name), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        desktop = browser.new_context(base_url=base, locale="en-GB", timezone_id="Europe/London", **DESKTOP)
        page = desktop.new_page()
        dashboard(page, "/dashboard/", args.out / "dashboard-organisation.png", 1600)
        page.goto(f"/dashboard/department/{department_id}")
        page.wait_for_function(DRAWN, polling="raf", timeout=30_000)
        teams = page.locator("section.card", has=page.locator("#dept-teams-graph"))
        teams.screenshot(path=args.out / "dashboard-department.png")  # its teams week by week
        print(f"wrote {args.out / 'dashboard-department.png'}")
        page.goto(f"/r/{join_code}/poster")
        page.screenshot(path=args.out / "poster.png", full_page=True)
        print(f"wrote {args.out / 'poster.png'}")
        phone = browser.new_context(base_url=base, locale="en-GB", timezone_id="Europe/London", **PHONE)
        rate = phone.new_page()
        rate.goto(f"/r/{join_code}")
        rate.get_by_role("button", name="Good shift").wait_for()
        rate.screenshot(path=args.out / "rating-phone.png")
        print(f"wrote {args.out / 'rating-phone.png'}")
        browser.close()


if __name__ == "__main__":
    main()
