"""The admin area in a real browser: an administrator signs in, creates a team, prints its poster,
replaces its link, and the old link stops working; axe-core finds no violation on the pages on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from pulse.models import Role
from pulse.services import accounts
from tests.browser.conftest import assert_no_axe_violations
from tests.factories import make_org, rating_body

PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin_email(session: Session) -> str:
    make_org(session)
    accounts.create_user(
        session, email="admin@example.nhs.uk", name="Ada Admin", role=Role.ADMIN, password=PASSWORD
    )
    session.commit()
    return "admin@example.nhs.uk"


def sign_in(page: Page, email: str) -> None:
    page.goto("/admin/login")
    assert_no_axe_violations(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Departments and teams")).to_be_visible()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_admin_creates_a_team_prints_its_poster_and_replaces_its_link(
    page: Page, admin_email: str, viewport: str
) -> None:
    sign_in(page, admin_email)
    assert_no_axe_violations(page)

    page.get_by_text("Add a team to Emergency Department").click()
    page.get_by_label("Team name").first.fill("Resus")
    page.get_by_label("Number of staff (headcount)").first.fill("14")
    page.get_by_role("button", name="Add team").first.click()
    expect(page.get_by_role("heading", name=re.compile("^Resus"))).to_be_visible()
    assert_no_axe_violations(page)
    old_link = page.locator(".code").first.inner_text()
    old_code = old_link.rsplit("/", 1)[1]

    page.get_by_role("link", name="Print the ward poster").click()
    expect(page.get_by_role("heading", name="How was your shift, Resus?")).to_be_visible()
    expect(page.locator("svg.qr")).to_be_visible()
    assert_no_axe_violations(page)
    page.go_back()

    page.get_by_role("link", name="Replace the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Replace the rating link of Resus?")
    expect(page.get_by_text("Every printed poster of Resus stops working at once")).to_be_visible()
    assert_no_axe_violations(page)
    page.get_by_role("link", name="No, keep the link").click()
    expect(page.locator(".code").first).to_have_text(old_link)  # nothing changes without a confirmation
    assert page.request.get(f"/r/{old_code}").status == 200

    page.get_by_role("link", name="Replace the link").click()
    page.get_by_role("button", name="Yes, replace the link").click()
    expect(page.get_by_role("status")).to_contain_text("The old link and its posters no longer work")
    new_link = page.locator(".code").first.inner_text()
    assert new_link != old_link
    new_code = new_link.rsplit("/", 1)[1]

    # The old link is gone everywhere: the page, and the rating API.
    assert page.request.get(f"/r/{old_code}").status == 404
    assert page.request.post("/api/v1/ratings", data=rating_body(old_code)).status == 404
    assert page.request.get(f"/r/{new_code}").status == 200
    assert page.request.post("/api/v1/ratings", data=rating_body(new_code)).status == 201


def test_a_wrong_password_is_announced_accessibly(page: Page, admin_email: str) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email address").fill(admin_email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("The email address or password is not right.").first).to_be_visible()
    assert_no_axe_violations(page)


def test_the_admin_pages_pass_axe(page: Page, admin_email: str) -> None:
    sign_in(page, admin_email)
    for path in ("/admin/organisation", "/admin/users", "/admin/audit", "/admin/account"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_axe_violations(page)


def test_the_home_page_of_a_whole_trust_fits_a_few_screens(page: Page, session: Session) -> None:
    from pulse.services.demo import seed_organisation

    seed_organisation(session, seed=2017)  # the demo trust: 12 departments, 60 teams
    accounts.create_user(session, email="ada@example.nhs.uk", name="Ada", role=Role.ADMIN, password=PASSWORD)
    session.commit()
    sign_in(page, "ada@example.nhs.uk")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2500, f"the departments and teams take {height} px"
    medicine = page.locator("details.department", has_text="Acute Medicine").first
    expect(medicine.get_by_role("link", name="Ward 7 (Respiratory)")).to_be_hidden()
    medicine.locator("> summary").click()
    expect(medicine.get_by_role("link", name="Ward 7 (Respiratory)")).to_be_visible()
    assert_no_axe_violations(page)
    page.get_by_label("Find a team or department").fill("ward 7")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("status")).to_contain_text("match \u201cward 7\u201d")
    expect(page.get_by_role("link", name="Ward 7 (Respiratory)")).to_be_visible()
    expect(page.get_by_role("link", name="Majors")).to_have_count(0)
    assert_no_axe_violations(page)
