"""Enrolling a phone in real Chromium: from the QR address of a personal code, the credential ends in
localStorage and the enrolment hook hears of it; a wrong code is announced beside the field; the page fits
320 px and 200% text, and axe-core finds nothing, in every state a person sees."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from pulse.services.accounts import roster
from tests.browser.conftest import assert_no_axe_violations
from tests.browser.test_rating_fit import FITS, set_fit
from tests.browser.test_rating_fit import OVERFLOW as FITS_CHECK
from tests.factories import make_org
from tests.factories_roster import issue, put_on_team

KEY = "pulse.device-credential"


@pytest.fixture
def viewport() -> str:
    return "phone"


def stored_credential(page: Page) -> str | None:
    return page.evaluate(f"window.localStorage.getItem('{KEY}')")


def assert_fits_and_accessible(page: Page) -> None:
    assert page.evaluate(FITS_CHECK) == [], f"{page.url} does not fit"
    assert_no_axe_violations(page)


@pytest.mark.parametrize("fit", list(FITS))
def test_a_personal_code_enrols_the_phone(
    page: Page, session: Session, fit: str, screenshot: Callable[[str], Path]
) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "nurse.one@example.nhs.uk")
    put_on_team(session, org.teams[1], "nurse.one@example.nhs.uk")
    code = issue(session, person)
    set_fit(page, fit)

    page.goto(f"/enrol/{code}")  # the address in the code's QR
    expect(page.get_by_role("heading", name="Enrol your phone")).to_be_visible()
    expect(page.get_by_label("Your enrolment code")).to_have_value(code)
    assert page.url.endswith("/enrol"), "the code is taken out of the address and the history"
    assert stored_credential(page) is None
    assert_fits_and_accessible(page)
    screenshot(f"enrol {fit}")

    # A script loaded after enrol.js (the token fetcher, later) hears of the enrolment through the hook.
    page.evaluate(
        "window.PulseEnrolment.onEnrolled(function (credential, details) {"
        " window.heard = { credential: credential, details: details }; })"
    )
    page.get_by_role("button", name="Enrol this phone").click()
    expect(page.get_by_role("heading", name="This phone is enrolled")).to_be_visible()
    expect(page.get_by_text("Enrolled for nurse.one@example.nhs.uk.")).to_be_visible()
    expect(page.get_by_text("Team 2 (Emergency Department)")).to_be_visible()
    credential = stored_credential(page)
    assert credential is not None
    assert roster.authenticate_device(session, credential).staff_member_id == person.id
    heard = page.evaluate("window.heard")
    assert heard["credential"] == credential
    assert [team["name"] for team in heard["details"]["teams"]] == ["Team 1", "Team 2"]
    assert_fits_and_accessible(page)
    screenshot(f"enrolled {fit}")

    page.goto("/enrol")  # later, on the same phone
    expect(page.get_by_role("heading", name="This phone is already enrolled")).to_be_visible()
    assert stored_credential(page) == credential
    assert_fits_and_accessible(page)


def test_a_wrong_or_used_code_is_announced_beside_the_field(page: Page, session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "nurse.one@example.nhs.uk")
    code = issue(session, person)
    page.goto("/enrol")
    field = page.get_by_label("Your enrolment code")

    page.get_by_role("button", name="Enrol this phone").click()
    expect(page.get_by_text("Enter the enrolment code from your slip.")).to_be_visible()
    expect(field).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page)

    field.fill("0000-0000-0000-0000")
    page.get_by_role("button", name="Enrol this phone").click()
    expect(page.get_by_text("This enrolment code is not right.")).to_be_visible()
    expect(field).to_be_focused()
    expect(field).to_have_accessible_description(
        "16 letters and numbers, like 7K3M-Q9TX-2HDA-8WPE, from the slip your manager gave you. Scanning its "
        "QR code with your camera fills it in. This enrolment code is not right. Check each character and "
        "try again, or ask your manager for a new code."
    )
    assert_no_axe_violations(page)
    assert stored_credential(page) is None

    roster.redeem_code(session, code, now=roster_now())  # someone else used it first
    session.commit()
    field.fill(code)
    page.get_by_role("button", name="Enrol this phone").click()
    expect(page.get_by_text("This enrolment code has already been used")).to_be_visible()
    assert stored_credential(page) is None


def roster_now():  # type: ignore[no-untyped-def]
    from tests.factories_roster import NOW

    return NOW


def test_offline_enrolment_says_so_and_keeps_the_code(page: Page, session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "nurse.one@example.nhs.uk")
    code = issue(session, person)
    page.goto(f"/enrol/{code}")
    page.context.set_offline(True)
    page.get_by_role("button", name="Enrol this phone").click()
    expect(page.get_by_text("Your phone could not reach Pulse.")).to_be_visible()
    expect(page.get_by_label("Your enrolment code")).to_have_value(code)
    page.context.set_offline(False)
    page.get_by_role("button", name="Enrol this phone").click()
    expect(page.get_by_role("heading", name="This phone is enrolled")).to_be_visible()
