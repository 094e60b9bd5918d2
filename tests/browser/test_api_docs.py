"""The interactive API docs (Swagger UI, served by Pulse itself) render in a browser, from Pulse alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import PUBLIC_LOOKING_HOST


def record_requests(page: Page) -> list[str]:
    urls: list[str] = []

    def record(request: Request) -> None:
        urls.append(request.url)

    page.on("request", record)
    return urls


# Swagger UI treats a URL naming localhost or 127.0.0.1 specially (it never shows its online-validator badge,
# an image from validator.swagger.io, there), so the docs are also loaded under a name like a deployment's.
@pytest.mark.parametrize("host", ["127.0.0.1", PUBLIC_LOOKING_HOST])
def test_api_docs_render_with_nothing_from_elsewhere(
    page: Page, live_server: str, host: str, screenshot: Callable[[str], Path]
) -> None:
    origin = f"{host}:{urlsplit(live_server).port}"
    requests = record_requests(page)
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )

    page.goto(f"http://{origin}/api/docs")

    expect(page.locator(".information-container .title")).to_contain_text("Pulse")
    rating = page.locator(".opblock-post", has=page.locator('[data-path="/api/v1/ratings"]'))
    expect(rating.locator(".opblock-summary-method")).to_have_text("POST")
    page.wait_for_load_state("networkidle")  # anything the rendered UI fetches has been asked for by now
    screenshot(f"api-docs-{host}")
    assert f"http://{origin}/api/openapi.json" in requests
    # data: and blob: URLs never leave the page; every other request must have gone to Pulse.
    elsewhere = [url for url in requests if urlsplit(url).scheme not in ("data", "blob")]
    elsewhere = [url for url in elsewhere if urlsplit(url).netloc != origin]
    assert elsewhere == [], "the docs page fetched from outside Pulse"
    # Its policy names a script rule (issue 14, point 9), and the page works under it: nothing was refused.
    assert refused == [], refused
