"""The dashboard in a real browser: its heading renders, no script fails, axe-core finds no violation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Error, Page, expect

from tests.browser.conftest import assert_no_axe_violations


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_dashboard_renders_accessibly(page: Page, viewport: str, screenshot: Callable[[str], Path]) -> None:
    errors: list[str] = []

    def record(error: Error) -> None:
        errors.append(error.message)

    page.on("pageerror", record)

    page.goto("/dashboard/")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Staff morale")
    page.wait_for_load_state("networkidle")  # Dash has run its first callbacks
    screenshot(f"dashboard-{viewport}")
    assert errors == []
    assert_no_axe_violations(page)
