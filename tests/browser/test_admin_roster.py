"""The roster's admin pages in a real browser: an administrator adds a person to a team, issues their code on
a printable sheet, and the person enrols with it on a phone; axe-core finds nothing on each page on the way,
including the organisation's rating mode with its refusal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from pulse.models import Role
from pulse.services import accounts
from pulse.services.accounts import roster
from tests.browser.conftest import VIEWPORTS, assert_no_axe_violations
from tests.browser.test_admin import PASSWORD, sign_in
from tests.factories import make_org

CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")


@pytest.fixture
def admin_email(session: Session) -> str:
    make_org(session)
    accounts.create_user(
        session, email="admin@example.nhs.uk", name="Ada Admin", role=Role.ADMIN, password=PASSWORD
    )
    session.commit()
    return "admin@example.nhs.uk"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_an_administrator_issues_a_code_that_enrols_a_phone(
    page: Page, browser: Browser, live_server: str, admin_email: str, session: Session, viewport: str
) -> None:
    sign_in(page, admin_email)
    page.get_by_role("link", name="Team 1").first.click()
    page.get_by_role("link", name="The roster and enrolment codes of Team 1").click()
    expect(page.get_by_role("heading", name=re.compile("^Roster"))).to_be_visible()
    assert_no_axe_violations(page)

    page.get_by_label("Add a person").fill("not an email@x")
    page.get_by_role("button", name="Add to roster").click()
    expect(page.get_by_role("alert")).to_contain_text("An email address or staff number has no spaces in it.")
    assert_no_axe_violations(page)
    page.get_by_label("Add a person").fill("Nurse.One@example.nhs.uk")
    page.get_by_role("button", name="Add to roster").click()
    expect(page.get_by_role("status")).to_have_text("Added to the roster.")
    expect(page.get_by_role("link", name="nurse.one@example.nhs.uk")).to_be_visible()

    page.get_by_role("button", name="Issue codes for the team").click()
    expect(page.get_by_text("These codes are shown only now.")).to_be_visible()
    expect(page.locator("svg.qr")).to_have_count(1)
    code = page.locator(".slip-code").inner_text().strip()
    assert CODE.match(code), code
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Back to the roster of Team 1").click()
    page.get_by_role("link", name="nurse.one@example.nhs.uk").click()
    expect(page.get_by_role("cell", name="Not used yet")).to_be_visible()
    assert_no_axe_violations(page)

    # The nurse enrols on their own phone (a fresh browser context).
    phone = browser.new_context(base_url=live_server, locale="en-GB", **VIEWPORTS["phone"])
    try:
        nurse = phone.new_page()
        nurse.goto(f"/enrol/{code}")
        nurse.get_by_role("button", name="Enrol this phone").click()
        expect(nurse.get_by_role("heading", name="This phone is enrolled")).to_be_visible()
    finally:
        phone.close()

    page.reload()
    expect(page.get_by_role("cell", name="Used")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Cancel the phone enrolled on"))).to_be_visible()
    page.get_by_role("button", name="Cancel every phone").click()
    expect(page.get_by_role("status")).to_contain_text("Every phone of this person has been cancelled")
    assert_no_axe_violations(page)
    person = roster.find_person(session, "nurse.one@example.nhs.uk")
    assert person is not None
    session.expire_all()
    assert all(device.revoked for device in roster.list_devices(session, person))


def test_the_rating_mode_says_which_teams_lack_a_roster(page: Page, admin_email: str) -> None:
    sign_in(page, admin_email)
    page.goto("/admin/organisation")
    section = page.locator("#rating-mode")
    expect(section).to_contain_text("someone with the link can still add ratings of their own")
    page.get_by_label("Verified: only enrolled staff on the team's roster, once per shift").check()
    page.get_by_role("button", name="Save rating mode").click()
    expect(page.get_by_role("alert")).to_contain_text("2 teams have none: Emergency Department / Team 1")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Staff roster", exact=True).click()
    expect(page.get_by_role("heading", name="Teams without a roster")).to_be_visible()
    assert_no_axe_violations(page)
