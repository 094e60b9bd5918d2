"""Verified rating through the HTTP API (issue 16): the n-1 attack fails; a token is spent once, races
included; wrong-slot, closed, forged, spent and misplaced tokens are refused with clear problem details.

Issuance and the published keys: tests/api/test_tokens.py. What storage can link: tests/privacy.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import OrgDayTally, OrgWeekTally, StaffMember
from pulse.services.tokens import encode_base64url
from tests.api.test_ratings import URL, assert_problem, team_week, total_ratings
from tests.conftest import LONDON, FakeClock
from tests.factories import Org, device_secret, make_org, mix_for, rating_body
from tests.factories_roster import enrol, put_on_team, staff, verified
from tests.phone import REASONS_URL, Phone, slot_id

# Opens many database connections at once: never beside another such test (pyproject's --dist loadgroup).
pytestmark = pytest.mark.xdist_group("many-connections")

WEEK = dt.date(2026, 11, 16)
WEDNESDAY = dt.date(2026, 11, 18)  # the FakeClock's day: its Early shift is open at 10:00
THREADS = 12


def verified_org(session: Session, people: int = 12) -> tuple[Org, list[StaffMember]]:
    org = make_org(session)
    team_staff = put_on_team(session, org.team, *staff(people))
    verified(session)
    return org, team_staff


def ready_phone(client: FlaskClient, session: Session, person: StaffMember, org: Org) -> Phone:
    """An enrolled phone holding its team's tokens for this week."""
    phone = Phone(client, enrol(session, person))
    phone.fetch_week(org.team.id, WEEK)
    return phone


def early(org: Org) -> int:
    return org.bands["Early"].id


def random_token() -> dict[str, str]:
    return {
        "nonce": encode_base64url(secrets.token_bytes(32)),
        "authenticator": encode_base64url(secrets.token_bytes(64)),
    }


# -- The n-1 attack --


def test_an_outsider_with_fresh_device_secrets_cannot_rate_a_verified_team(
    client: FlaskClient, session: Session
) -> None:
    """Nine 'devices' of someone with the join code would lift a week of one real rater to ten. In verified
    mode each is refused, with how to enrol, and nothing is counted."""
    org, _ = verified_org(session)
    for _ in range(9):
        refused = assert_problem(client.post(URL, json=rating_body(org.team.join_code)), 401, "token")
        assert refused["type"] == "urn:pulse:problem:enrolment-needed"
        assert refused["enrol_url"] == "/enrol" and "Enrol this phone" in refused["detail"]
    assert team_week(session, org.team.id) is None


def test_an_enrolled_insider_gets_one_counted_rating_per_shift_whatever_they_send(
    client: FlaskClient, session: Session
) -> None:
    """One real rater (red). The insider, enrolled on the same team, rates once, then tries everything else
    they could send: only their one rating counts, so the week has two contributors, never ten."""
    org, people = verified_org(session)
    colleague = ready_phone(client, session, people[1], org)
    assert (
        colleague.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org), colour="red").status_code
        == 201
    )

    insider = ready_phone(client, session, people[0], org)
    first = insider.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    assert first.status_code == 201, first.get_json()
    for _ in range(3):  # the spent token again, as new ratings
        again = insider.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org))
        assert assert_problem(again, 409)["type"] == "urn:pulse:problem:already-rated"
    for _ in range(3):  # fresh devices
        assert_problem(client.post(URL, json=rating_body(org.team.join_code)), 401)
    for _ in range(3):  # made-up tokens
        forged = insider.rating_body(org.team.join_code, org.team.id, WEDNESDAY, early(org), token=None)
        forged["token"] = {"shift_date": WEDNESDAY.isoformat(), "band_id": early(org), **random_token()}
        assert_problem(client.post(URL, json=forged), 422, "token")
    # A second token for the same shift: from the same phone with a fresh nonce, or from a second phone.
    insider.forget(slot_id(org.team.id, WEDNESDAY, early(org)))
    answer = insider.fetch_tokens([slot_id(org.team.id, WEDNESDAY, early(org))])
    assert answer["issued"] == [] and answer["refused"][0]["reason"] == "already-issued"
    second_phone = Phone(client, enrol(session, people[0]))
    answer = second_phone.fetch_week(org.team.id, WEEK)
    assert answer["issued"] == [], "every token of this week was already issued to this person"
    assert {r["reason"] for r in answer["refused"]} == {"already-issued", "closed"}

    assert team_week(session, org.team.id) == (1, 0, 1, 2)


def test_a_week_counts_each_person_once_whatever_shifts_they_rate(
    client: FlaskClient, session: Session, clock: FakeClock
) -> None:
    """The pseudonyms count distinct people exactly: one person's Wednesday and Thursday ratings are one
    contributor to the team's week, to each day and to the organisation's week."""
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    assert phone.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org)).status_code == 201
    clock.advance(days=1)
    thursday = WEDNESDAY + dt.timedelta(days=1)
    assert (
        phone.rate(org.team.join_code, org.team.id, thursday, early(org), colour="amber").status_code == 201
    )
    other = ready_phone(client, session, people[1], org)
    assert other.rate(org.team.join_code, org.team.id, thursday, early(org)).status_code == 201

    assert team_week(session, org.team.id) == (0, 1, 2, 2)
    assert session.get(OrgDayTally, WEDNESDAY).contributors == 1
    assert session.get(OrgDayTally, thursday).contributors == 2
    assert session.get(OrgWeekTally, WEEK).contributors == 2


# -- Retries and races --


def test_a_retry_with_the_same_idempotency_key_is_answered_again_and_counted_once(
    client: FlaskClient, session: Session, clock: FakeClock
) -> None:
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    body = phone.rating_body(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    first = client.post(URL, json=body)
    assert first.status_code == 201
    assert client.post(URL, json=body).get_json() == first.get_json()
    clock.set(dt.datetime(2026, 11, 18, 17, 30, tzinfo=LONDON))  # Early has closed; Late is open
    late_retry = client.post(URL, json=body)
    assert late_retry.status_code == 201 and late_retry.get_json() == first.get_json()
    assert team_week(session, org.team.id) == (0, 0, 1, 1)


def post_together(apps: list[Flask], bodies: list[dict[str, Any]], url: str = URL) -> list[Any]:
    """Post each body from its own thread (through the apps in turn: on PostgreSQL, each app rates on its own
    connection, as worker processes do), all released at once. The responses' JSON and status."""
    barrier = threading.Barrier(len(bodies))

    def post(index: int) -> tuple[int, Any]:
        client = apps[index % len(apps)].test_client()
        barrier.wait(timeout=30)
        response = client.post(url, json=bodies[index])
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, range(len(bodies))))


def more_apps(make_app: Callable[..., Flask], tmp_path: Path) -> list[Flask]:
    """Two more apps on the test's database, sealing to the same inbox (the `app` fixture's data folder)."""
    return [make_app(data_dir=tmp_path / "pulse-data") for _ in range(2)]


def test_one_token_spent_in_many_ratings_at_once_counts_once(
    app: Flask, make_app: Callable[..., Flask], client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    body = phone.rating_body(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    bodies = [dict(body, idempotency_key=f"race-{i:03d}") for i in range(THREADS)]
    results = post_together([app, *more_apps(make_app, tmp_path)], bodies)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (THREADS - 1), results
    assert {b["type"] for s, b in results if s == 409} == {"urn:pulse:problem:already-rated"}
    assert team_week(session, org.team.id) == (0, 0, 1, 1)
    assert total_ratings(session) == 1


def test_retries_of_one_token_rating_at_once_count_once(
    app: Flask, make_app: Callable[..., Flask], client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    body = phone.rating_body(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    results = post_together([app, *more_apps(make_app, tmp_path)], [dict(body) for _ in range(THREADS)])
    assert [status for status, _ in results] == [201] * THREADS
    assert team_week(session, org.team.id) == (0, 0, 1, 1)


# -- Refusals --


def test_a_token_for_another_shift_than_the_open_one_is_wrong_slot(
    client: FlaskClient, session: Session
) -> None:
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    late = org.bands["Late"].id
    refused = assert_problem(phone.rate(org.team.join_code, org.team.id, WEDNESDAY, late), 409, "token")
    assert refused["type"] == "urn:pulse:problem:wrong-slot"
    assert refused["open_slot"] == {"shift_date": "2026-11-18", "band_id": early(org), "band": "Early"}
    assert "Late shift of 18 November" in refused["detail"]
    # Nothing was spent: the right token still counts.
    assert phone.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org)).status_code == 201
    assert team_week(session, org.team.id) == (0, 0, 1, 1)


def test_a_token_whose_shift_has_closed_is_refused(
    client: FlaskClient, session: Session, clock: FakeClock
) -> None:
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    clock.set(dt.datetime(2026, 11, 18, 17, 30, tzinfo=LONDON))  # Early closed at 17:00 (15:00 + grace)
    refused = assert_problem(phone.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org)), 409, "token")
    assert refused["type"] == "urn:pulse:problem:shift-closed"
    assert "has closed for rating" in refused["detail"]
    assert team_week(session, org.team.id) is None


def test_a_queued_token_rating_counts_while_its_shift_is_open(
    client: FlaskClient, session: Session, clock: FakeClock
) -> None:
    """Offline: tapped at 14:50 (Early), sent at 16:30 (Late is open too, Early's grace has not ended)."""
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    clock.set(dt.datetime(2026, 11, 18, 16, 30, tzinfo=LONDON))
    age = int(dt.timedelta(hours=1, minutes=40).total_seconds())
    response = phone.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org), age_seconds=age)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["shift_band"] == "Early"


@pytest.mark.parametrize("field", ["token", "week_pseudonym", "day_pseudonym", "orgweek_pseudonym"])
def test_a_forged_token_or_pseudonym_is_refused_naming_it(
    client: FlaskClient, session: Session, field: str
) -> None:
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    body = phone.rating_body(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    body[field] = {**body[field], "authenticator": random_token()["authenticator"]}
    refused = assert_problem(client.post(URL, json=body), 422, field)
    assert refused["type"] == "urn:pulse:problem:token-invalid"
    assert team_week(session, org.team.id) is None
    # The real token was not spent by the forgery.
    assert phone.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org)).status_code == 201


def test_a_token_of_one_team_cannot_rate_another(client: FlaskClient, session: Session) -> None:
    org, people = verified_org(session)
    put_on_team(session, org.teams[1], people[0].identifier)
    phone = ready_phone(client, session, people[0], org)
    phone.fetch_week(org.teams[1].id, WEEK)
    body = phone.rating_body(org.teams[1].join_code, org.team.id, WEDNESDAY, early(org))
    assert (
        assert_problem(client.post(URL, json=body), 422, "token")["type"] == "urn:pulse:problem:token-invalid"
    )
    # Each team's own token counts, once each: the person rates both teams they work for.
    assert phone.rate(org.teams[1].join_code, org.teams[1].id, WEDNESDAY, early(org)).status_code == 201
    assert phone.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org)).status_code == 201
    assert team_week(session, org.teams[1].id) == (0, 0, 1, 1)


def test_tokens_sent_to_an_open_team_are_refused(client: FlaskClient, session: Session) -> None:
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    body = phone.rating_body(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    from pulse.models import RatingMode
    from pulse.services.organisation import set_rating_mode

    set_rating_mode(session, RatingMode.OPEN)
    session.commit()
    refused = assert_problem(client.post(URL, json=body), 422, "token")
    assert refused["type"] == "urn:pulse:problem:tokens-not-used"
    missing = dict(rating_body(org.team.join_code))
    del missing["device_secret"]
    assert_problem(client.post(URL, json=missing), 422, "device_secret")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"week_pseudonym": None}, "week_pseudonym"),
        ({"day_pseudonym": None, "orgweek_pseudonym": None}, "orgweek_pseudonym"),
        ({"device_secret": device_secret()}, "device_secret"),
        (
            {
                "token": {
                    "shift_date": "2026-11-18",
                    "band_id": 1,
                    "nonce": "not base64!",
                    "authenticator": "",
                }
            },
            "token.nonce",
        ),
        (
            {"token": {"shift_date": "2026-11-18", "band_id": 1, **random_token(), "nonce": "AAAA"}},
            "token.nonce",
        ),
        ({"token": {"shift_date": "2026-11-18", "band_id": 0, **random_token()}}, "token.band_id"),
        ({"token": {"band_id": 1, **random_token()}}, "token.shift_date"),
        ({"token": {"shift_date": "18/11/2026", "band_id": 1, **random_token()}}, "token.shift_date"),
        ({"token": {"shift_date": "2026-11-18", "band_id": True, **random_token()}}, "token.band_id"),
        ({"token": "a token"}, "token"),
        ({"week_pseudonym": {**random_token(), "team_id": 1}}, "week_pseudonym.team_id"),
        ({"day_pseudonym": {"nonce": random_token()["nonce"]}}, "day_pseudonym.authenticator"),
    ],
)
def test_malformed_token_ratings_are_refused_naming_the_field(
    client: FlaskClient, session: Session, change: dict[str, Any], field: str
) -> None:
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    body = phone.rating_body(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    assert_problem(client.post(URL, json=body), 422, field)


# -- Reasons --


def test_reasons_follow_a_token_rating_with_the_same_token(client: FlaskClient, session: Session) -> None:
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    body = phone.rating_body(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    assert client.post(URL, json=body).status_code == 201
    follow_up = {
        "join_code": body["join_code"],
        "idempotency_key": body["idempotency_key"],
        "reasons": [org.tags[0].id],
    }
    assert_problem(client.post(REASONS_URL, json={**follow_up, "device_secret": device_secret()}), 401)
    forged = {**body["token"], **random_token()}
    assert_problem(client.post(REASONS_URL, json={**follow_up, "token": forged}), 422, "token")
    added = client.post(REASONS_URL, json={**follow_up, "token": body["token"]})
    assert added.status_code == 200, added.get_json()
    assert added.get_json() == {"status": "recorded", "reasons": 1}
    mix_for(session)
    from pulse.models import TeamWeekReasonTally

    assert session.get(TeamWeekReasonTally, (org.team.id, WEEK, org.tags[0].id)).ratings == 1


def test_nothing_of_a_token_rating_reaches_the_database_in_the_clear(
    client: FlaskClient, session: Session
) -> None:
    from pulse.db import Base

    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    body = phone.rating_body(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    assert client.post(URL, json=body).status_code == 201
    sent = [held.nonce for held in phone.tokens.values()] + [h.authenticator for h in phone.tokens.values()]
    sent += [encode_base64url(value).encode() for value in sent]
    mix_for(session)
    with session.get_bind().connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                    assert not any(s in raw for s in sent), f"a token's bytes are in {table.name}"
