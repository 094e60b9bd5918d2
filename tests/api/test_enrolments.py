"""POST /api/v1/enrolments: a personal code in, a device credential out, once; every refusal is problem+json
naming the field; rate-limited with the rating endpoints; documented."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import EnrolledDevice
from pulse.services.accounts import roster
from tests.factories import make_org
from tests.factories_roster import issue, put_on_team

URL = "/api/v1/enrolments"


def test_a_code_enrols_the_device_once(client: FlaskClient, session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "nurse@example.nhs.uk")
    code = issue(session, person)
    response = client.post(URL, json={"code": code.lower()})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"credential", "identifier", "teams"}
    assert body["identifier"] == "nurse@example.nhs.uk"
    assert body["teams"] == [{"id": org.team.id, "name": "Team 1", "department": "Emergency Department"}]
    assert roster.authenticate_device(session, body["credential"]).staff_member_id == person.id

    again = client.post(URL, json={"code": code})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    problem = again.get_json()
    assert problem["type"] == "urn:pulse:problem:enrolment-code-used"
    assert "already been used" in problem["errors"]["code"][0]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(EnrolledDevice)) == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "code"),
        ({"code": 12345}, 422, "code"),
        ({"code": "short"}, 422, "code"),
        ({"code": "7K3M-Q9TX-2HDA-8WP!"}, 422, "code"),
        ({"code": "7K3M-Q9TX-2HDA-8WPU"}, 422, "code"),  # U is not in Crockford's alphabet
        ({"code": "0000-0000-0000-0000"}, 404, "code"),
        ({"code": "0000-0000-0000-0000", "extra": 1}, 422, "extra"),
        ([], 422, "body"),
    ],
)
def test_bad_codes_are_refused_naming_the_field(
    client: FlaskClient, session: Session, body: object, status: int, field: str
) -> None:
    make_org(session)
    response = client.post(URL, json=body)
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_not_json_is_415(client: FlaskClient) -> None:
    response = client.post(URL, data="code=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.mimetype == "application/problem+json"


def test_a_deactivated_person_cannot_enrol_and_their_code_stays_unused(
    client: FlaskClient, session: Session
) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "nurse@example.nhs.uk")
    code = issue(session, person)
    roster.set_person_active(session, None, person, False)
    session.commit()
    refused = client.post(URL, json={"code": code})
    assert refused.status_code == 403
    assert refused.get_json()["type"] == "urn:pulse:problem:staff-member-inactive"
    roster.set_person_active(session, None, person, True)
    session.commit()
    assert client.post(URL, json={"code": code}).status_code == 201


def test_enrolments_count_towards_the_rating_rate_limit(make_app, session: Session) -> None:  # type: ignore[no-untyped-def]
    app = make_app(rating_rate_limit="3/minute")
    client = app.test_client()
    make_org(session)
    statuses = [client.post(URL, json={"code": "0000-0000-0000-0000"}).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    limited = client.post(URL, json={"code": "0000-0000-0000-0000"})
    assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_the_endpoint_is_documented(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    post = spec["paths"][URL]["post"]
    assert {"201", "403", "404", "409", "410", "422", "429"} <= set(post["responses"])
    assert spec["components"]["schemas"]["EnrolmentIn"]["required"] == ["code"]
    assert "application/problem+json" in post["responses"]["409"]["content"]


def test_the_endpoint_sets_no_cookie(client: FlaskClient, session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "nurse@example.nhs.uk")
    response = client.post(URL, json={"code": issue(session, person)})
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
