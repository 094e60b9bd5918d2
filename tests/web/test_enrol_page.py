"""The enrolment page through the test client: it explains what enrolling means, takes a code from its QR
address without using it, loads nothing from elsewhere, is never cached, and offers single sign-on only when
it is set up."""

from __future__ import annotations

import html

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from pulse.services.accounts import roster
from pulse.web.pages import CONTENT_SECURITY_POLICY
from tests.factories import make_org
from tests.factories_roster import NOW, issue, put_on_team
from tests.web.test_rating_page import links_in


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def test_the_page_explains_enrolment_and_loads_only_pulses_own_files(client: FlaskClient) -> None:
    response = client.get("/enrol")
    assert response.status_code == 200
    page = text_of(response)
    assert "Enrol your phone" in page
    assert "Pulse will know that this phone belongs to you" in page
    assert "The tokens are blinded" in page
    assert "nobody can tell which rating is yours" in page
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    for url in links_in(response.get_data(as_text=True)):
        if url.startswith("#") or url == "/dashboard/":  # the dashboard is not mounted in these tests
            continue
        assert url.startswith("/"), url
        assert client.get(url).status_code == 200, url
    assert "<script>" not in page and "onclick" not in page  # no inline script
    assert "Sign in with" not in page  # no single sign-on set up


def test_the_qr_address_fills_in_the_code_and_does_not_use_it(client: FlaskClient, session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "nurse@example.nhs.uk")
    code = issue(session, person)
    response = client.get(f"/enrol/{code}")
    assert response.status_code == 200
    assert f">{code}</textarea>" in response.get_data(as_text=True)
    assert roster.list_codes(session, person, NOW)[0].status == roster.CodeStatus.LIVE


def test_an_overlong_code_address_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/enrol/" + "A" * 41)
    assert response.status_code == 404
    assert "This enrolment link is not recognised" in text_of(response)


def test_signing_in_to_enrol_is_404_without_single_sign_on(client: FlaskClient) -> None:
    for path in ("/enrol/sso", "/enrol/sso/callback"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Enrol your phone" in text_of(response)
