"""Issuing tokens and publishing their keys (issue 16): one token per person per slot, ever, races included;
only the person's teams, live weeks and open slots; the keys listed are the keys used, the same for all."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import RatingMode, TokenIssuance
from pulse.services.accounts import roster
from pulse.services.organisation import set_rating_mode
from pulse.services.tokens import derive_public_key
from tests.api.test_ratings import assert_problem
from tests.api.test_verified_rating import WEDNESDAY, WEEK, early, ready_phone, verified_org
from tests.conftest import LONDON, FakeClock
from tests.factories_roster import enrol, put_on_team
from tests.phone import KEYS_URL, TOKENS_URL, KeyMismatch, Phone, slot_id, token_id

# Opens many database connections at once: never beside another such test (pyproject's --dist loadgroup).
pytestmark = pytest.mark.xdist_group("many-connections")

NEXT_WEEK = WEEK + dt.timedelta(days=7)
THREADS = 12


def issuance_rows(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(TokenIssuance)) or 0


# -- Issuance --


def test_a_week_of_tokens_is_issued_for_the_slots_still_open(client: FlaskClient, session: Session) -> None:
    """Wednesday 10:00: Monday's and Tuesday's slots and Wednesday's Night before it have closed; the rest
    of the week is issued, with the team-week, the open days and the organisation week."""
    org, people = verified_org(session)
    phone = Phone(client, enrol(session, people[0]))
    answer = phone.fetch_week(org.team.id, WEEK)
    closed = {(r["kind"], r.get("shift_date")) for r in answer["refused"]}
    assert {r["reason"] for r in answer["refused"]} == {"closed"}
    assert closed == {
        ("slot", "2026-11-16"),
        ("slot", "2026-11-17"),
        ("day", "2026-11-16"),
        ("day", "2026-11-17"),
    }
    kinds = [i["kind"] for i in answer["issued"]]
    assert kinds.count("slot") == 5 * 3 and kinds.count("week") == 1 and kinds.count("orgweek") == 1
    assert kinds.count("day") == 5
    assert len(phone.tokens) == 22  # every answer checked against the published key and unblinded
    assert issuance_rows(session) == 22
    assert phone.fetch_week(org.team.id, NEXT_WEEK)["refused"] == []


def test_an_empty_request_answers_the_persons_teams(client: FlaskClient, session: Session) -> None:
    org, people = verified_org(session)
    put_on_team(session, org.teams[1], people[0].identifier)
    answer = Phone(client, enrol(session, people[0])).fetch_tokens([])
    assert [t["id"] for t in answer["teams"]] == [org.team.id, org.teams[1].id]
    assert answer["teams"][1]["join_code"] == org.teams[1].join_code
    assert answer["issued"] == answer["refused"] == []


def test_what_the_person_may_not_have_is_refused_with_its_reason(
    client: FlaskClient, session: Session
) -> None:
    org, people = verified_org(session)
    phone = Phone(client, enrol(session, people[0]))
    phone.fetch_keys(org.team.id, WEEK)
    asked = {
        slot_id(org.teams[1].id, WEDNESDAY, early(org)): "not-your-team",
        ("week", org.teams[1].id, WEEK.isoformat()): "not-your-team",
        slot_id(org.team.id, WEDNESDAY - dt.timedelta(days=1), early(org)): "closed",
        slot_id(org.team.id, WEDNESDAY, 9999): "no-such-slot",
        slot_id(org.team.id, WEDNESDAY + dt.timedelta(days=14), early(org)): "no-such-slot",
        slot_id(org.team.id, WEDNESDAY - dt.timedelta(days=7), early(org)): "closed",
        ("orgweek", (WEEK - dt.timedelta(days=7)).isoformat()): "closed",
        ("day", "2026-11-17"): "closed",
        slot_id(org.team.id, WEDNESDAY, early(org)): "issued",
    }
    answer = phone.fetch_tokens(list(asked))
    got = {token_id(refused): refused["reason"] for refused in answer["refused"]}
    assert got == {k: v for k, v in asked.items() if v != "issued"}
    assert [token_id(i) for i in answer["issued"]] == [slot_id(org.team.id, WEDNESDAY, early(org))]
    assert all(r["detail"] for r in answer["refused"])
    assert issuance_rows(session) == 1, "nothing is recorded for what was refused"


def test_a_second_token_for_a_slot_is_refused_and_a_retry_gets_the_same_token(
    client: FlaskClient, session: Session
) -> None:
    org, people = verified_org(session)
    phone = Phone(client, enrol(session, people[0]))
    phone.fetch_keys(org.team.id, WEEK)
    slot = slot_id(org.team.id, WEDNESDAY, early(org))
    first = phone.fetch_tokens([slot])["issued"][0]["evaluation"]
    token = phone.tokens[slot]
    # The answer was lost: the same blinded element again is evaluated again, the same token results.
    retry = phone.fetch_tokens([slot])["issued"][0]["evaluation"]
    assert retry != first, "the proof is randomised"
    assert phone.tokens[slot] == token
    # Another blinded element for the same slot: refused, from this phone or another of the person's.
    phone.forget(slot)
    assert phone.fetch_tokens([slot])["refused"][0]["reason"] == "already-issued"
    other = Phone(client, enrol(session, people[0]))
    other.fetch_keys(org.team.id, WEEK)
    assert other.fetch_tokens([slot])["refused"][0]["reason"] == "already-issued"
    # Someone else on the team gets their own.
    colleague = Phone(client, enrol(session, people[1]))
    colleague.fetch_keys(org.team.id, WEEK)
    assert len(colleague.fetch_tokens([slot])["issued"]) == 1
    assert issuance_rows(session) == 2


def test_many_requests_for_one_slot_at_once_get_one_token(
    app: Flask, make_app: Callable[..., Flask], session: Session, tmp_path: Path
) -> None:
    """Phones of one person racing for the same slot (and day), each with its own blinded elements, on three
    apps (on PostgreSQL, separate connections): exactly one gets each token."""
    org, people = verified_org(session)
    credentials = [enrol(session, people[0]) for _ in range(THREADS)]
    apps = [app, *(make_app(data_dir=tmp_path / "pulse-data") for _ in range(2))]
    wanted = [slot_id(org.team.id, WEDNESDAY, early(org)), ("day", WEDNESDAY.isoformat())]
    phones = [Phone(apps[i % 3].test_client(), credentials[i]) for i in range(THREADS)]
    for phone in phones:
        phone.fetch_keys(org.team.id, WEEK)
        for want in wanted:
            phone.blind(want)
    barrier = threading.Barrier(THREADS)

    def fetch(phone: Phone) -> tuple[int, Any]:
        barrier.wait(timeout=30)
        response = phone.request_tokens(wanted)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(fetch, phones))
    assert {status for status, _ in results} == {200}, results
    issued = [i["kind"] for _, answer in results for i in answer["issued"]]
    assert sorted(issued) == ["day", "slot"]
    refused = [r["reason"] for _, answer in results for r in answer["refused"]]
    assert refused == ["already-issued"] * (2 * THREADS - 2)
    assert issuance_rows(session) == 2


def test_a_phone_needs_a_valid_enrolment(client: FlaskClient, session: Session) -> None:
    _org, people = verified_org(session)
    for credential in (None, "not-a-credential"):
        refused = assert_problem(Phone(client, credential).request_tokens([]), 401, "Authorization")
        assert refused["type"] == "urn:pulse:problem:enrolment-needed" and refused["enrol_url"] == "/enrol"
    credential = enrol(session, people[0])
    phone = Phone(client, credential)
    response = phone.request_tokens([])
    assert response.status_code == 200
    assert phone.request_tokens([], Authorization="Basic abc").status_code == 401
    device = roster.list_devices(session, people[0])[0]
    roster.revoke_device(session, None, device)
    session.commit()
    revoked = phone.request_tokens([])
    assert assert_problem(revoked, 401)["detail"].startswith("This phone's enrolment has been cancelled")
    assert revoked.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_person_off_every_roster_or_deactivated_gets_no_tokens(
    client: FlaskClient, session: Session
) -> None:
    org, people = verified_org(session)
    first, second = Phone(client, enrol(session, people[0])), Phone(client, enrol(session, people[1]))
    roster.remove_from_team(session, None, people[0], org.team)
    roster.set_person_active(session, None, people[1], active=False)
    session.commit()
    assert assert_problem(first.request_tokens([]), 403)["type"] == "urn:pulse:problem:not-on-roster"
    assert assert_problem(second.request_tokens([]), 403)["type"] == "urn:pulse:problem:staff-member-inactive"


def test_open_mode_issues_no_tokens(client: FlaskClient, session: Session) -> None:
    org, people = verified_org(session)
    phone = Phone(client, enrol(session, people[0]))
    set_rating_mode(session, RatingMode.OPEN)
    session.commit()
    assert assert_problem(phone.request_tokens([]), 403)["type"] == "urn:pulse:problem:verified-rating-off"
    keys = client.get(KEYS_URL, query_string={"team_id": org.team.id, "week": WEEK.isoformat()})
    assert_problem(keys, 404)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (
            {"kind": "slot", "team_id": 1, "shift_date": "2026-11-18", "blinded": "A" * 43},
            "requests.0.band_id",
        ),
        (
            {"kind": "week", "team_id": 1, "week_start": "2026-11-17", "blinded": "A" * 43},
            "requests.0.week_start",
        ),
        (
            {"kind": "day", "shift_date": "2026-11-18", "team_id": 1, "blinded": "A" * 43},
            "requests.0.team_id",
        ),
        ({"kind": "month", "blinded": "A" * 43}, "requests.0.kind"),
        ({"kind": "orgweek", "week_start": "2026-11-16", "blinded": "AAAA"}, "requests.0.blinded"),
        (
            {"kind": "orgweek", "week_start": "2026-11-16", "blinded": "A" * 43},
            "requests.0.blinded",
        ),  # identity
        ({"kind": "orgweek", "week_start": "2026-11-16"}, "requests.0.blinded"),
    ],
)
def test_malformed_token_requests_are_refused_naming_the_field(
    client: FlaskClient, session: Session, request_: dict[str, Any], field: str
) -> None:
    _org, people = verified_org(session)
    phone = Phone(client, enrol(session, people[0]))
    response = client.post(
        TOKENS_URL, json={"requests": [request_]}, headers={"Authorization": f"Bearer {phone.credential}"}
    )
    assert_problem(response, 422, field)
    assert issuance_rows(session) == 0


def test_at_most_512_requests_at_once(client: FlaskClient, session: Session) -> None:
    verified_org(session)
    request_ = {"kind": "orgweek", "week_start": "2026-11-16", "blinded": "A" * 43}
    response = client.post(
        TOKENS_URL, json={"requests": [request_] * 513}, headers={"Authorization": "Bearer x"}
    )
    assert_problem(response, 422, "requests")


# -- The published keys --


def test_a_teams_key_list_holds_every_key_of_its_week(client: FlaskClient, session: Session) -> None:
    org, _ = verified_org(session)
    response = client.get(KEYS_URL, query_string={"team_id": org.team.id, "week": WEEK.isoformat()})
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    body = response.get_json()
    assert (body["week_start"], body["team_id"]) == ("2026-11-16", org.team.id)
    kinds = [key["kind"] for key in body["keys"]]
    assert (kinds.count("slot"), kinds.count("week"), kinds.count("day"), kinds.count("orgweek")) == (
        21,
        1,
        7,
        1,
    )
    assert body["keys"][0] == {
        "kind": "slot",
        "team_id": org.team.id,
        "shift_date": "2026-11-16",
        "band_id": org.bands["Early"].id,
        "band": "Early",
        "public_key": body["keys"][0]["public_key"],
    }
    assert len({key["public_key"] for key in body["keys"]}) == 30, "every key differs"


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"team_id": 999999, "week": "2026-11-16"}, 404, "team_id"),
        ({"team_id": "x", "week": "2026-11-16"}, 422, "team_id"),
        ({"week": "2026-11-16"}, 422, "team_id"),
        ({"team_id": 1, "week": "2026-11-17"}, 422, "week"),
        ({"team_id": 1, "week": "2026-11-30"}, 422, "week"),
        ({"team_id": 1, "week": "2026-11-09"}, 422, "week"),
        ({"team_id": 1, "week": "2026-11-16", "extra": "1"}, 422, "extra"),
    ],
)
def test_key_lists_refuse_what_is_not_published(
    client: FlaskClient, session: Session, query: dict[str, Any], status: int, field: str
) -> None:
    org, _ = verified_org(session)
    if query.get("team_id") == 1:
        query = {**query, "team_id": org.team.id}
    assert_problem(client.get(KEYS_URL, query_string=query), status, field)


def test_the_week_list_is_every_teams_list_the_same_for_everyone(
    client: FlaskClient, session: Session
) -> None:
    org, _people = verified_org(session)
    put_on_team(session, org.teams[1], "someone.else@example.nhs.uk")
    week_list = client.get(f"/api/v1/token-keys/weeks/{WEEK.isoformat()}")
    assert week_list.status_code == 200
    keys = week_list.get_json()["keys"]
    for team in org.teams:
        one = client.get(KEYS_URL, query_string={"team_id": team.id, "week": WEEK.isoformat()}).get_json()
        assert all(key in keys for key in one["keys"])
    assert len(keys) == 2 * 22 + 8
    assert client.get(f"/api/v1/token-keys/weeks/{WEEK.isoformat()}").get_json()["keys"] == keys
    assert_problem(client.get("/api/v1/token-keys/weeks/2026-11-18"), 422, "week_start")
    assert_problem(client.get("/api/v1/token-keys/weeks/not-a-date"), 422, "week_start")


def test_the_keys_listed_are_the_keys_used(app: Flask, client: FlaskClient, session: Session) -> None:
    """Each token's proof checks out against the listed key (the phone refuses it otherwise), and the server
    checks a spent token under the same key: a rating made with it counts. The listed key is the one the
    week's peppered seed derives."""
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    assert phone.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org)).status_code == 201
    from pulse.api.tokens import seed_cache

    with app.app_context():
        seed = seed_cache().get(session, [WEEK], create=False)[WEEK]
    slot = phone.keys[slot_id(org.team.id, WEDNESDAY, early(org))]
    assert derive_public_key(seed, f"pulse/v1/slot/{org.team.id}/2026-11-18/{early(org)}".encode()) == slot


def test_a_server_signing_one_person_with_a_key_of_their_own_is_caught_by_the_phone(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that wanted to recognise one person's ratings would evaluate their tokens under a key of
    their own. The proof then fails against the published key, and the phone refuses the tokens."""
    import pulse.services.tokens.issuance as issuance

    org, people = verified_org(session)
    phone = Phone(client, enrol(session, people[0]))
    phone.fetch_keys(org.team.id, WEEK)
    honest = issuance.evaluate_blinded
    monkeypatch.setattr(
        issuance, "evaluate_blinded", lambda seed, info, blinded: honest(bytes(32), info, blinded)
    )
    with pytest.raises(KeyMismatch):
        phone.fetch_tokens([slot_id(org.team.id, WEDNESDAY, early(org))])


def test_a_new_secret_key_changes_every_key_and_reissues_only_what_has_not_started(
    client: FlaskClient,
    session: Session,
    make_app: Callable[..., Flask],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    """docs/operations.md: after PULSE_SECRET_KEY changes, every key of the week changes and old tokens fail.
    Phones fetch new tokens for the shifts not yet started and new pseudonyms; a shift already started is not
    issued again (someone may have rated it), so who had not rated it yet loses that one shift."""
    org, people = verified_org(session)
    rater, waiter = ready_phone(client, session, people[0], org), ready_phone(client, session, people[1], org)
    assert rater.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org)).status_code == 201
    early_slot, late = slot_id(org.team.id, WEDNESDAY, early(org)), org.bands["Late"].id
    old_key = rater.keys[early_slot]

    renewed = make_app(data_dir=tmp_path / "pulse-data", secret_key="a brand new secret key, long enough ok")
    for phone in (rater, waiter):
        phone.client = renewed.test_client()
        phone.fetch_keys(org.team.id, WEEK)
    assert rater.keys[early_slot] != old_key
    stale = waiter.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    assert assert_problem(stale, 422, "token")["type"] == "urn:pulse:problem:token-invalid"

    for phone in (rater, waiter):
        for wanted in list(phone.tokens):
            phone.forget(wanted)
        answer = phone.fetch_week(org.team.id, WEEK)
        refused = {token_id(r): r["reason"] for r in answer["refused"]}
        assert refused[early_slot] == "closed", "the Early shift had started: no second token, for anyone"
        assert slot_id(org.team.id, WEDNESDAY, late) in phone.tokens
        assert ("week", org.team.id, WEEK.isoformat()) in phone.tokens
    clock.set(dt.datetime(2026, 11, 18, 20, 0, tzinfo=LONDON))
    for phone in (rater, waiter):
        assert phone.rate(org.team.join_code, org.team.id, WEDNESDAY, late).status_code == 201
    assert issuance_rows(session) > 0
