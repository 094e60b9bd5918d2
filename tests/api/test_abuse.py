"""Abuse of the rating endpoints: oversized bodies, wrong content types, malformed JSON and floods are refused
as problem+json naming what is wrong, and none of them changes a tally.

Each abusive request carries a body that would otherwise have been counted; the same body sent properly right
after is counted, so the refusal is down to the abuse alone.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import OrgShiftTally, TeamWeekReasonTally, TeamWeekTally
from tests.api.test_ratings import assert_problem
from tests.factories import Org, enable_kiosk, make_org, mix_for, rating_body

RATINGS, REASONS, KIOSK = "/api/v1/ratings", "/api/v1/ratings/reasons", "/api/v1/kiosk-ratings"
ENDPOINTS = (RATINGS, REASONS, KIOSK)
TALLIES = (TeamWeekTally, TeamWeekReasonTally, OrgShiftTally)
CLIENT, NEIGHBOUR = "203.0.113.7", "198.51.100.23"


def tallies(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every tally table, once the sealed inbox is mixed: what a rating leaves behind."""
    mix_for(session)
    snapshot = {}
    for model in TALLIES:
        columns = list(model.__table__.columns)
        rows = session.execute(select(*columns)).all()
        snapshot[model.__tablename__] = sorted(tuple(row) for row in rows)
    return snapshot


@dataclass
class Bodies:
    """A body each endpoint would accept and count, new on every call."""

    org: Org
    kiosk_token: str
    client: FlaskClient

    def __call__(self, url: str) -> dict[str, Any]:
        if url == RATINGS:
            return rating_body(self.org.team.join_code, "amber", reasons=[self.org.tags[0].id])
        if url == REASONS:  # a rating counted just now, whose reasons are still to come
            rating = rating_body(self.org.teams[1].join_code, "red")
            assert self.client.post(RATINGS, json=rating).status_code == 201
            keys = ("join_code", "device_secret", "idempotency_key")
            return {**{key: rating[key] for key in keys}, "reasons": [self.org.tags[1].id]}
        return {"kiosk_token": self.kiosk_token, "colour": "green", "idempotency_key": secrets.token_hex(16)}


@pytest.fixture
def bodies(client, session) -> Bodies:  # type: ignore[no-untyped-def]
    org = make_org(session)
    bodies = Bodies(org, enable_kiosk(session, org.teams[1]), client)
    assert client.post(RATINGS, json=bodies(RATINGS)).status_code == 201  # no tally starts out empty
    return bodies


def counted_afterwards(client: FlaskClient, session: Session, url: str, body: dict[str, Any]) -> None:
    """The same body, sent properly, is counted: it was the abuse that was refused."""
    before = tallies(session)
    response = client.post(url, json=body)
    assert response.status_code in (200, 201), response.get_json()
    assert tallies(session) != before


def oversized(client: FlaskClient, body: dict[str, Any]) -> str:
    """`body`, padded to just over PULSE_MAX_BODY_BYTES."""
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    return json.dumps(body)[:-1] + ', "padding": "' + "x" * limit + '"}'


@pytest.mark.parametrize("url", ENDPOINTS)
def test_an_oversized_body_is_413_naming_the_body(client, session, bodies: Bodies, url: str) -> None:
    body = bodies(url)
    before = tallies(session)

    problem = assert_problem(
        client.post(url, data=oversized(client, body), content_type="application/json"), 413, "body"
    )
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    assert problem["errors"]["body"] == [f"The body is larger than the {limit} bytes allowed."]
    assert tallies(session) == before
    counted_afterwards(client, session, url, body)


@pytest.mark.parametrize("url", ENDPOINTS)
def test_an_oversized_chunked_body_is_413_too(client, session, bodies: Bodies, url: str) -> None:
    """Without a Content-Length (chunked, as gunicorn passes it on), the body is cut off at the limit."""
    body = bodies(url)
    before = tallies(session)

    chunked = {
        "content_type": "application/json",
        "headers": {"Transfer-Encoding": "chunked"},
        "environ_overrides": {"wsgi.input_terminated": True},
    }

    assert_problem(client.post(url, data=oversized(client, body), **chunked), 413, "body")
    assert tallies(session) == before
    response = client.post(url, data=json.dumps(body), **chunked)  # a chunked body within the limit is read
    assert response.status_code in (200, 201), response.get_json()
    assert tallies(session) != before


def _as_text(body: dict[str, Any]) -> dict[str, Any]:
    return {"data": json.dumps(body), "content_type": "text/plain"}


def _as_form(body: dict[str, Any]) -> dict[str, Any]:
    return {"data": body}  # application/x-www-form-urlencoded, lists as repeated fields


def _without_type(body: dict[str, Any]) -> dict[str, Any]:
    return {"data": json.dumps(body)}


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("send_as", [_as_text, _as_form, _without_type], ids=["text", "form", "missing"])
def test_a_body_that_is_not_declared_json_is_415(
    client, session, bodies: Bodies, url: str, send_as: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    body = bodies(url)
    before = tallies(session)
    request = send_as(body)

    response = client.post(url, **request)
    assert response.request.headers.get("Content-Type") != "application/json"
    problem = assert_problem(response, 415, "body")
    assert "Content-Type: application/json" in problem["detail"]
    assert tallies(session) == before
    counted_afterwards(client, session, url, body)


def _broken(text: str) -> str:
    return "{not json" + text[9:]


def _truncated(text: str) -> str:
    return text[:-1]


def _too_deep(_text: str) -> str:
    return "[" * 5000 + "]" * 5000  # within the size limit, past Python's recursion limit


def _huge_number(text: str) -> str:
    return text[:-1] + ', "padding": ' + "9" * 5000 + "}"  # past Python's 4,300 digits


def _bad_utf8(text: str) -> bytes:
    return text.encode()[:-2] + b'\xff"}'


MALFORMED_400 = [_broken, _truncated, _too_deep, _huge_number, _bad_utf8]


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("spoil", MALFORMED_400, ids=lambda spoil: spoil.__name__.strip("_"))
def test_malformed_json_is_400_naming_the_body(
    client, session, bodies: Bodies, url: str, spoil: Callable[[str], str | bytes]
) -> None:
    body = bodies(url)
    before = tallies(session)

    response = client.post(url, data=spoil(json.dumps(body)), content_type="application/json")
    problem = assert_problem(response, 400, "body")
    assert problem["errors"]["body"] == ["The body is not valid JSON."]
    assert tallies(session) == before
    counted_afterwards(client, session, url, body)


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (lambda body: "[" + json.dumps(body) + "]", "body"),  # an array where the object belongs
        (lambda body: "null", "body"),
        (
            lambda body: json.dumps(body)[:-1] + ', "colour": NaN}',
            "colour",
        ),  # not a colour (nor a reasons field)
        (lambda body: json.dumps({**body, "idempotency_key": {"$ne": None}}), "idempotency_key"),
        (lambda body: json.dumps({**body, "extra": "field"}), "extra"),
    ],
    ids=["array", "null", "nan", "object-for-string", "unknown-field"],
)
def test_json_of_the_wrong_shape_is_422_naming_the_field(
    client, session, bodies: Bodies, url: str, spoil: Callable[[dict[str, Any]], str], field: str
) -> None:
    body = bodies(url)
    before = tallies(session)

    response = client.post(url, data=spoil(body), content_type="application/json")
    assert_problem(response, 422, field)
    assert tallies(session) == before
    counted_afterwards(client, session, url, body)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/departments/99999999999999999999",
        "/api/v1/teams/2147483648",
        "/api/v1/teams/0",
        "/api/v1/figures/teams/99999999999999999999/weeks",
        "/api/v1/figures/departments/2147483648/reasons",
    ],
)
def test_an_id_beyond_the_databases_integers_is_404_not_500(client, path: str) -> None:
    assert_problem(client.get(path), 404)


# --- a flood from one address -------------------------------------------------------------------------------


def test_a_flood_from_one_address_gets_429_with_retry_after(make_app) -> None:
    app = make_app(rating_rate_limit="5/hour")
    client = app.test_client()
    session = app.extensions["pulse"].session_factory()
    session.info["app"] = app
    org = make_org(session)
    token = enable_kiosk(session, org.teams[1])
    flood = {"environ_base": {"REMOTE_ADDR": CLIENT}}
    neighbour = {"environ_base": {"REMOTE_ADDR": NEIGHBOUR}}
    pending = rating_body(org.teams[1].join_code)  # a rating whose reasons are still to come
    assert client.post(RATINGS, json=pending, **neighbour).status_code == 201

    # Five requests, valid or not, spread over the three endpoints, use up the limit...
    first = rating_body(org.team.join_code)
    assert client.post(RATINGS, json=first, **flood).status_code == 201
    keys = {key: first[key] for key in ("join_code", "device_secret", "idempotency_key")}
    assert client.post(REASONS, json={**keys, "reasons": [org.tags[0].id]}, **flood).status_code == 200
    assert client.post(KIOSK, json={"kiosk_token": token, "colour": "red"}, **flood).status_code == 422
    assert client.post(RATINGS, data="{not json", content_type="application/json", **flood).status_code == 400
    assert client.post(RATINGS, json=rating_body("NoSuchTeam12345"), **flood).status_code == 404
    before = tallies(session)

    # ...and then every rating endpoint refuses, before reading the body, however good it is.
    tap = {"kiosk_token": token, "colour": "green", "idempotency_key": secrets.token_hex(16)}
    reasons = {key: pending[key] for key in keys} | {"reasons": [org.tags[1].id]}
    refused = {RATINGS: rating_body(org.team.join_code), KIOSK: tap, REASONS: reasons}
    for url, body in refused.items():
        response = client.post(url, json=body, **flood)
        problem = assert_problem(response, 429)
        assert problem["type"] == "urn:pulse:problem:rate-limited"
        assert "Nothing was counted" in problem["detail"] and "try again" in problem["detail"]
        wait = int(response.headers["Retry-After"])
        assert 1 <= wait <= 3600 and problem["retry_after"] == wait
        assert f"{wait} seconds" in problem["detail"]
    assert client.post(RATINGS, data="{not json", content_type="application/json", **flood).status_code == 429
    assert tallies(session) == before

    # Another address is counted on its own: the same requests from there are taken.
    assert client.post(RATINGS, json=refused[RATINGS], **neighbour).status_code == 201
    assert client.post(REASONS, json=refused[REASONS], **neighbour).status_code == 200
    assert tallies(session) != before
    session.close()
