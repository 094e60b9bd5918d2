"""POST /api/v1/ratings through the HTTP test client: every answer, and what it stores."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from pulse.db import Base
from pulse.models import (
    ContributorReceipt,
    OrgShiftTally,
    RequestReceipt,
    ShiftReceipt,
    TeamWeekReasonTally,
    TeamWeekTally,
)
from pulse.services import structure
from pulse.services.tallies import org_shift_totals
from tests.conftest import LONDON, FakeClock
from tests.factories import device_secret, make_org, mix_for, rating_body

URL = "/api/v1/ratings"
WEEK = dt.date(2026, 11, 16)


def team_week(session: Session, team_id: int) -> tuple[int, int, int, int] | None:
    mix_for(session)
    row = session.get(TeamWeekTally, (team_id, WEEK))
    return None if row is None else (row.red, row.amber, row.green, row.contributors)


def total_ratings(session: Session) -> int:
    mix_for(session)
    team = session.scalar(select(func.sum(TeamWeekTally.red + TeamWeekTally.amber + TeamWeekTally.green)))
    org = session.scalar(select(func.sum(OrgShiftTally.red + OrgShiftTally.amber + OrgShiftTally.green)))
    assert team == org, "team and organisation tallies must always agree"
    return team or 0


def assert_problem(response, status: int, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    if field is not None:
        assert field in body["errors"], body
    return body


def test_new_rating_is_counted_in_every_tally(client, session) -> None:
    org = make_org(session)
    tag = org.tags[0]
    response = client.post(URL, json=rating_body(org.team.join_code, "red", reasons=[tag.id]))

    assert response.status_code == 201
    assert response.get_json() == {"status": "recorded", "shift_date": "2026-11-18", "shift_band": "Early"}
    assert team_week(session, org.team.id) == (1, 0, 0, 1)
    assert session.get(TeamWeekReasonTally, (org.team.id, WEEK, tag.id)).ratings == 1
    # The mixer keeps a row for every band of the open days; only the rated shift has a rating in it.
    [org_row] = [row for row in org_shift_totals(session) if row.red + row.amber + row.green]
    assert (org_row.shift_date, org_row.band_id) == (dt.date(2026, 11, 18), org.bands["Early"].id)
    assert (org_row.red, org_row.amber, org_row.green) == (1, 0, 0)


def test_retry_with_same_idempotency_key_gets_same_answer_and_counts_once(
    client, session, clock: FakeClock
) -> None:
    org = make_org(session)
    body = rating_body(org.team.join_code, "amber")
    first = client.post(URL, json=body)
    clock.advance(hours=7)  # the retry arrives during the Late shift, after the first try's band has closed
    retry = client.post(URL, json=body)

    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert team_week(session, org.team.id) == (0, 1, 0, 1)
    assert total_ratings(session) == 1


def test_second_rating_in_same_shift_is_refused(client, session) -> None:
    org = make_org(session)
    body = rating_body(org.team.join_code, "green")
    assert client.post(URL, json=body).status_code == 201
    again = dict(body, idempotency_key="a-different-request", colour="red")

    problem = assert_problem(client.post(URL, json=again), 409)
    assert problem["type"].endswith("already-rated")
    assert "already rated this shift" in problem["detail"]
    assert team_week(session, org.team.id) == (0, 0, 1, 1)


def test_a_refused_second_rating_stays_refused_when_retried(client, session) -> None:
    """The refused request leaves no receipt behind: its retry is refused again, not answered as counted."""
    org = make_org(session)
    body = rating_body(org.team.join_code, "green")
    assert client.post(URL, json=body).status_code == 201
    again = dict(body, idempotency_key="a-different-request", colour="red")
    for _ in range(2):
        assert assert_problem(client.post(URL, json=again), 409)["type"].endswith("already-rated")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(RequestReceipt)) == 1
    assert team_week(session, org.team.id) == (0, 0, 1, 1)


def test_a_rating_is_counted_when_a_remembered_key_has_gone(client, session) -> None:
    """Keys are remembered per process. If they vanish from the database (a restore from backup, a purge
    with a clock set wrong), the rating is still counted once, with fresh keys, never a 500."""
    from pulse.models import RatingKey

    org = make_org(session)
    for _ in range(2):  # the first rating creates the keys; the second finds them, and they are remembered
        assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    session.rollback()
    for model in (RequestReceipt, ShiftReceipt, ContributorReceipt, RatingKey):
        session.execute(model.__table__.delete())
    session.commit()

    assert client.post(URL, json=rating_body(org.team.join_code, "red")).status_code == 201
    assert team_week(session, org.team.id) == (1, 0, 2, 3)
    assert total_ratings(session) == 3


def test_same_device_in_another_team_same_shift_is_refused(client, session) -> None:
    org = make_org(session)
    body = rating_body(org.teams[0].join_code)
    assert client.post(URL, json=body).status_code == 201
    other = dict(body, join_code=org.teams[1].join_code, idempotency_key="second-request")
    assert_problem(client.post(URL, json=other), 409)
    assert total_ratings(session) == 1


def test_same_device_next_shift_counts_again_but_is_one_contributor(
    client, session, clock: FakeClock
) -> None:
    org = make_org(session)
    secret = device_secret()
    for key, colour in (("monday-early", "green"), ("monday-late", "red")):
        response = client.post(
            URL, json=rating_body(org.team.join_code, colour, device_secret=secret, idempotency_key=key)
        )
        assert response.status_code == 201
        clock.advance(hours=9)  # 10:00 Early -> 19:00 Late
    assert team_week(session, org.team.id) == (1, 0, 1, 1)


def test_distinct_devices_are_distinct_contributors(client, session) -> None:
    org = make_org(session)
    for colour in ("green", "green", "amber"):
        assert client.post(URL, json=rating_body(org.team.join_code, colour)).status_code == 201
    assert team_week(session, org.team.id) == (0, 1, 2, 3)


def test_night_rating_after_midnight_is_dated_to_the_night_start(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    clock.set(dt.datetime(2026, 11, 23, 6, 45, tzinfo=LONDON))  # Monday morning, end of Sunday's night shift
    response = client.post(URL, json=rating_body(org.team.join_code))
    assert response.get_json()["shift_date"] == "2026-11-22"
    assert response.get_json()["shift_band"] == "Night"
    # ...so it belongs to the ISO week that started on Monday the 16th, not the 23rd.
    assert team_week(session, org.team.id) == (0, 0, 1, 1)


def test_unknown_join_code_is_404(client, session) -> None:
    make_org(session)
    problem = assert_problem(client.post(URL, json=rating_body("NoSuchTeamCode123")), 404, "join_code")
    assert problem["type"].endswith("unknown-join-code")
    assert total_ratings(session) == 0


def test_rotated_join_code_stops_working(client, session) -> None:
    org = make_org(session)
    old = org.team.join_code
    new = structure.rotate_join_code(session, org.team)
    session.commit()
    assert new != old and len(new) == structure.JOIN_CODE_LENGTH
    assert_problem(client.post(URL, json=rating_body(old)), 404, "join_code")
    assert client.post(URL, json=rating_body(new)).status_code == 201


def test_inactive_team_cannot_be_rated(client, session) -> None:
    org = make_org(session)
    org.team.active = False
    session.commit()
    assert_problem(client.post(URL, json=rating_body(org.team.join_code)), 404, "join_code")


# On PostgreSQL each process remembers join codes and shift bands (ratings_postgres). These rate once first,
# so that they are remembered, then change them: the change must hold from the very next rating.


def test_a_join_code_replaced_after_use_stops_working_at_once(client, session) -> None:
    org = make_org(session)
    old = org.team.join_code
    assert client.post(URL, json=rating_body(old)).status_code == 201
    new = structure.rotate_join_code(session, org.team)
    session.commit()

    assert_problem(client.post(URL, json=rating_body(old)), 404, "join_code")
    assert client.post(URL, json=rating_body(new)).status_code == 201
    assert team_week(session, org.team.id) == (0, 0, 2, 2)


def test_a_team_deactivated_after_use_cannot_be_rated_at_once(client, session) -> None:
    org = make_org(session)
    assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    org.team.active = False
    session.commit()

    assert_problem(client.post(URL, json=rating_body(org.team.join_code)), 404, "join_code")
    assert total_ratings(session) == 1


def test_shift_band_changes_after_use_hold_from_the_next_rating(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    clock.set(dt.datetime(2026, 11, 18, 20, 0, tzinfo=LONDON))  # the Late shift
    code = org.team.join_code
    assert client.post(URL, json=rating_body(code)).json["shift_band"] == "Late"

    org.bands["Late"].name = "Twilight"  # renamed: the next receipt says so
    session.commit()
    assert client.post(URL, json=rating_body(code)).json["shift_band"] == "Twilight"

    org.bands["Late"].active = False  # retired: at 20:00 no band is open any more
    session.commit()
    assert assert_problem(client.post(URL, json=rating_body(code)), 409)["type"].endswith("no-open-shift")

    org.bands["Late"].active = True  # back, and the process must not keep refusing on what it saw
    org.bands["Late"].start_time = dt.time(19, 0)
    session.commit()
    assert client.post(URL, json=rating_body(code)).json["shift_band"] == "Twilight"
    assert total_ratings(session) == 3


def test_a_lost_database_connection_is_503_then_ratings_flow_again(  # type: ignore[no-untyped-def]
    client, session, database_url, clean_db
) -> None:
    """The rating path's connection is cut (as by a database restart): that rating is refused with 503 and
    Retry-After, its retry is counted once, and nothing is counted twice."""
    if not database_url.startswith("postgresql"):
        pytest.skip("cuts PostgreSQL server connections")
    org = make_org(session)
    assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    session.rollback()
    cut = text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    assert session.scalar(cut) >= 1
    session.commit()

    body = rating_body(org.team.join_code, "red")
    refused = client.post(URL, json=body)
    assert_problem(refused, 503)
    assert int(refused.headers["Retry-After"]) >= 1
    assert client.post(URL, json=body).status_code == 201
    assert client.post(URL, json=body).status_code == 201  # a retry of a counted rating: counted once
    assert team_week(session, org.team.id) == (1, 0, 1, 2)
    clean_db.dispose()  # its pooled connections were cut too


def test_the_rating_endpoints_neither_read_nor_set_a_session_cookie(client, session) -> None:
    """Staff rate anonymously: a session cookie the browser holds (say, a manager's) is not read, and no
    cookie is set, whatever the answer."""
    org = make_org(session)
    client.set_cookie("pulse_session", "not-even-signed")
    ok = client.post(URL, json=rating_body(org.team.join_code))
    refused = client.post(URL, json=rating_body("NoSuchTeamCode123"))
    reasons = client.post(f"{URL}/reasons", json={"join_code": org.team.join_code})
    for response in (ok, refused, reasons):
        assert "Set-Cookie" not in response.headers, response.status_code
        assert "Cookie" not in response.headers.get("Vary", "")
    assert ok.status_code == 201


def test_unknown_and_retired_reasons_are_refused_by_name(client, session) -> None:
    org = make_org(session)
    org.tags[1].active = False
    session.commit()
    for reasons in ([999_999], [org.tags[1].id]):
        problem = assert_problem(
            client.post(URL, json=rating_body(org.team.join_code, reasons=reasons)), 422, "reasons"
        )
        assert str(reasons[0]) in problem["errors"]["reasons"][0]
    assert total_ratings(session) == 0


def test_no_open_shift_is_409(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    for band in ("Late", "Night"):
        org.bands[band].active = False
    session.commit()
    clock.set(dt.datetime(2026, 11, 18, 20, 0, tzinfo=LONDON))
    problem = assert_problem(client.post(URL, json=rating_body(org.team.join_code)), 409)
    assert problem["type"].endswith("no-open-shift")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"colour": 1}, "colour"),
        ({"colour": None}, "colour"),
        ({"join_code": 12345678}, "join_code"),
        ({"join_code": "short"}, "join_code"),
        ({"join_code": "has spaces in it"}, "join_code"),
        ({"device_secret": "too-short"}, "device_secret"),
        ({"device_secret": "x" * 129}, "device_secret"),
        ({"device_secret": "not/url+safe/characters/at/all"}, "device_secret"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": ["a list"]}, "idempotency_key"),
        ({"reasons": "1"}, "reasons"),
        ({"reasons": ["1"]}, "reasons.0"),
        ({"reasons": [1.5]}, "reasons.0"),
        ({"reasons": [0]}, "reasons.0"),
        ({"reasons": [2**40]}, "reasons.0"),
        ({"reasons": [1, 1]}, "reasons"),
        ({"reasons": list(range(1, 12))}, "reasons"),
        ({"shift_band": "Night"}, "shift_band"),  # unknown fields are refused, not ignored
    ],
)
def test_malformed_fields_are_422_naming_the_field(client, session, change: dict, field: str) -> None:
    org = make_org(session)
    body = rating_body(org.team.join_code)
    body.update(change)
    assert_problem(client.post(URL, json=body), 422, field)
    assert total_ratings(session) == 0


@pytest.mark.parametrize("missing", ["join_code", "colour", "device_secret", "idempotency_key"])
def test_missing_fields_are_named(client, session, missing: str) -> None:
    org = make_org(session)
    body = rating_body(org.team.join_code)
    del body[missing]
    problem = assert_problem(client.post(URL, json=body), 422, missing)
    assert problem["errors"][missing] == ["Missing data for required field."]


@pytest.mark.parametrize("payload", ["{not json", "[1, 2", '"just a string'])
def test_invalid_json_is_400(client, payload: str) -> None:
    assert_problem(client.post(URL, data=payload, content_type="application/json"), 400, "body")


@pytest.mark.parametrize("payload", ["[]", '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_refused(client, payload: str) -> None:
    response = client.post(URL, data=payload, content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"]


def test_wrong_content_type_is_415(client, session) -> None:
    org = make_org(session)
    response = client.post(URL, data={"join_code": org.team.join_code, "colour": "green"})
    assert_problem(response, 415, "body")
    assert_problem(client.post(URL, data="colour=green", content_type="text/plain"), 415)


def test_oversized_body_is_413(client, session) -> None:
    org = make_org(session)
    body = rating_body(org.team.join_code, padding="x" * 20_000)
    assert_problem(client.post(URL, json=body), 413, "body")
    assert total_ratings(session) == 0


def test_wrong_method_is_405_problem(client) -> None:
    assert_problem(client.get(URL), 405)


def test_nothing_identifying_is_stored(client, session) -> None:
    """The device secret and idempotency key never reach the database, in any table or form."""
    org = make_org(session)
    body = rating_body(org.team.join_code, "red", reasons=[org.tags[0].id])
    assert client.post(URL, json=body).status_code == 201
    secret, key = body["device_secret"].encode(), body["idempotency_key"].encode()
    session.rollback()  # end the read snapshot so the next read sees new commits
    with session.get_bind().connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    assert secret not in raw and key not in raw, f"found rater input in {table.name}"
    # Exactly one digest of each kind; no per-rating row anywhere else. Contributors are counted by the
    # mixer: one digest for the team's week, one for the organisation's day, one for its week.
    assert session.scalar(select(func.count()).select_from(ShiftReceipt)) == 1
    assert session.scalar(select(func.count()).select_from(RequestReceipt)) == 1
    assert session.scalar(select(func.count()).select_from(ContributorReceipt)) == 0
    mix_for(session)
    assert session.scalar(select(func.count()).select_from(ContributorReceipt)) == 3
