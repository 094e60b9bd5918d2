"""The Content-Security-Policy holds in a real browser: the dashboard draws its charts with scripts only from
Pulse (Dash's inline scripts allowed by hash), and the admin pages run with no inline code at all."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy.orm import Session

from tests.factories import add_week, make_org


def csp_reports(page: Page) -> list[str]:
    messages: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            messages.append(message.text)

    page.on("console", record)
    return messages


def test_the_dashboard_draws_under_its_policy(page: Page, session: Session) -> None:
    import datetime as dt

    org = make_org(session, teams=3)
    add_week(session, org, dt.date(2026, 11, 9), {0: (2, 3, 6, 8), 1: (1, 2, 8, 9), 2: (3, 3, 4, 8)})
    session.commit()
    violations = csp_reports(page)
    response = page.goto("/dashboard/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy and "unsafe-eval" not in policy
    page.wait_for_load_state("networkidle")
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    assert violations == []


def test_the_admin_sign_in_page_runs_under_a_strict_policy(page: Page) -> None:
    violations = csp_reports(page)
    response = page.goto("/admin/login")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert violations == []
