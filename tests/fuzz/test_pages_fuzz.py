"""The pages outside the OpenAPI document (the admin area, the rating pages, the dashboard) answer malformed
input with a 4xx page, never a 500: first the cases an outside test found (issue 14, point 6), then generated
text of every kind (NUL, CR/LF, other control characters, huge numbers, path tricks) in the same places.

On PostgreSQL these matter most: it refuses NUL in text and integers beyond 32 bits, which SQLite takes.
"""

from __future__ import annotations

import itertools

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.admin.conftest import PASSWORD, People, csrf_token, sign_in

# Text of every kind, control characters included; no lone surrogates (they cannot be sent as UTF-8).
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
NASTY = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "\r\nX-Injected: 1",
        "/admin/\r\nX: 1",
        "\u202e",
        "99999999999999999999",
        "-1",
        "0",
        "2147483648",
        "../",
        "%00",
        "..%2f",
        "\\\\evil.example",
        "//evil.example",
    ]
)
TEXT = st.one_of(ANY_TEXT, NASTY, st.builds(lambda a, b: a + b, NASTY, ANY_TEXT))
ADDRESSES = itertools.count()
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def admin(site: Flask, people: People) -> FlaskClient:
    client = site.test_client()
    sign_in(client, people.admin.email)
    return client


def refused_plainly(status: int) -> bool:
    return 400 <= status < 500


# --- The cases from the outside test ------------------------------------------------------------------------


def test_a_nul_in_the_sign_in_email_is_refused(site: Flask, people: People) -> None:
    client = site.test_client()
    data = {"email": "admin\x00@example.nhs.uk", "password": PASSWORD, "csrf_token": csrf_token(client)}
    assert refused_plainly(client.post("/admin/login", data=data).status_code)


def test_a_nul_in_a_team_name_is_refused(admin: FlaskClient, people: People) -> None:
    department = people.org.department.id
    data = {"name": "Ward\x009", "headcount": "12", "csrf_token": csrf_token(admin, "/admin/")}
    assert refused_plainly(admin.post(f"/admin/departments/{department}/teams", data=data).status_code)


def test_a_next_address_with_a_line_break_goes_home(site: Flask, people: People) -> None:
    client = site.test_client()
    data = {"email": people.admin.email, "password": PASSWORD, "next": "/admin/\r\nX: 1"}
    response = client.post("/admin/login", data={**data, "csrf_token": csrf_token(client)})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    assert "X" not in response.headers


@pytest.mark.parametrize("before", ["99999999999999999999", "2147483648", "-1", "0", "abc", "1e3", "\u0661"])
def test_an_audit_page_that_cannot_exist_is_a_400(admin: FlaskClient, before: str) -> None:
    assert admin.get("/admin/audit", query_string={"before": before}).status_code == 400


def test_an_audit_page_that_can_exist_is_shown(admin: FlaskClient) -> None:
    assert admin.get("/admin/audit?before=2147483647").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/_dash-component-suites/../_dash-layout",
        "/dashboard/_dash-component-suites/dash/../../pulse/config.py",
        "/dashboard/_dash-component-suites/dash/no-such-script.js",
        "/dashboard/_dash-component-suites/os/path.py",
    ],
)
def test_a_script_dash_does_not_serve_is_a_404(site: Flask, path: str) -> None:
    assert site.test_client().get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/admin/teams/99999999999999",
        "/admin/users/99999999999999",
        "/admin/departments/99999999999999/actions",
        "/admin/teams/0",
        "/admin/teams/99999999999999/roster",
        "/admin/teams/99999999999999/roster.csv",
        "/admin/staff/99999999999999",
        "/admin/staff/0",
    ],
)
def test_an_id_beyond_the_database_is_a_404(admin: FlaskClient, path: str) -> None:
    assert admin.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/r/%00abc", "/r/abc%00/poster", "/k/%00x", "/r/abc%00/privacy"])
def test_a_nul_in_a_rating_address_is_a_404(site: Flask, path: str) -> None:
    assert site.test_client().get(path).status_code == 404


# --- Generated input, in the same places ------------------------------------------------------------------


@FUZZ
@given(email=TEXT, password=TEXT, next_=TEXT)
def test_sign_in_takes_any_text(site: Flask, people: People, email: str, password: str, next_: str) -> None:
    # Each attempt from an address of its own, so that the sign-in limits do not answer them all with 429.
    client = site.test_client()
    client.environ_base["REMOTE_ADDR"] = f"192.0.2.{next(ADDRESSES) % 250 + 1}"
    data = {"email": email, "password": password, "next": next_, "csrf_token": csrf_token(client)}
    response = client.post("/admin/login", data=data)
    assert response.status_code in (303, 400, 401, 429), response.status_code
    if response.status_code == 303:
        assert response.headers["Location"].startswith("/admin/")


@pytest.mark.slow  # seconds: hypothesis examples
@FUZZ
@given(name=TEXT, headcount=TEXT)
def test_team_and_department_forms_take_any_text(
    admin: FlaskClient, people: People, name: str, headcount: str
) -> None:
    token = csrf_token(admin, "/admin/")
    department = people.org.department.id
    team = admin.post(
        f"/admin/departments/{department}/teams",
        data={"name": name, "headcount": headcount, "csrf_token": token},
    )
    assert team.status_code in (303, 422), team.status_code
    renamed = admin.post(
        f"/admin/teams/{people.org.team.id}",
        data={"name": name, "headcount": headcount, "active": "true", "csrf_token": token},
    )
    assert renamed.status_code in (303, 422), renamed.status_code
    moved = admin.post(
        f"/admin/teams/{people.org.team.id}/move", data={"department_id": name, "csrf_token": token}
    )
    assert refused_plainly(moved.status_code) or moved.status_code == 303


@pytest.mark.slow  # seconds: hypothesis examples
@FUZZ
@given(value=TEXT)
def test_query_values_and_path_parts_take_any_text(site: Flask, admin: FlaskClient, value: str) -> None:
    client = site.test_client()
    for response in (
        admin.get("/admin/audit", query_string={"before": value}),
        admin.get("/admin/users", query_string={"created": value}),
        client.get("/admin/login", query_string={"next": value}),
        client.get("/dashboard/go", query_string={"to": value}),
        client.get(f"/r/{value}"),
        client.get(f"/r/{value}/poster"),
        client.get(f"/k/{value}"),
        client.get(f"/dashboard/_dash-component-suites/{value}/x.js"),
        client.get(f"/dashboard/team/{value}"),
    ):
        assert response.status_code < 500, (response.request.path, response.status_code)
