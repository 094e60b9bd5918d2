"""Headless Chromium for the browser benchmarks: Debian's /usr/bin/chromium, driven by Playwright (never
`playwright install`), as tests/browser drives it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium browser from a sync_playwright() instance; the caller closes it."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
