"""POST /api/v1/ratings/reasons: reasons follow a counted rating, once, for the team and week it was in."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import RequestReceipt, TeamWeekReasonTally
from tests.api.test_ratings import WEEK, assert_problem, team_week
from tests.conftest import LONDON, FakeClock
from tests.factories import Org, make_org, mix_for, rating_body

URL = "/api/v1/ratings/reasons"


def reason_counts(session: Session, team_id: int) -> dict[int, int]:
    mix_for(session)
    rows = session.scalars(
        select(TeamWeekReasonTally).where(
            TeamWeekReasonTally.team_id == team_id, TeamWeekReasonTally.week_start == WEEK
        )
    )
    return {row.tag_id: row.ratings for row in rows if row.ratings}


def rate(client, org: Org, colour: str = "red", **extra: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    body = rating_body(org.team.join_code, colour, **extra)
    assert client.post("/api/v1/ratings", json=body).status_code == 201
    return body


def follow_up(rating: dict[str, object], reasons: list[int], **change: object) -> dict[str, object]:
    body = {key: rating[key] for key in ("join_code", "device_secret", "idempotency_key")}
    return {**body, "reasons": reasons, **change}


def test_reasons_after_a_rating_are_added_once(client, session) -> None:
    org = make_org(session)
    rating = rate(client, org)
    tags = [org.tags[0].id, org.tags[2].id]

    response = client.post(URL, json=follow_up(rating, tags))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "recorded", "reasons": 2}
    assert reason_counts(session, org.team.id) == {tags[0]: 1, tags[1]: 1}
    assert team_week(session, org.team.id) == (1, 0, 0, 1), "the rating itself is untouched"

    again = client.post(URL, json=follow_up(rating, [org.tags[1].id]))
    body = assert_problem(again, 409, "reasons")
    assert body["type"] == "urn:pulse:problem:reasons-already-added"
    assert reason_counts(session, org.team.id) == {tags[0]: 1, tags[1]: 1}


def test_reasons_sent_with_the_rating_cannot_be_added_again(client, session) -> None:
    org = make_org(session)
    rating = rate(client, org, reasons=[org.tags[0].id])
    response = client.post(URL, json=follow_up(rating, [org.tags[1].id]))
    assert_problem(response, 409, "reasons")
    assert reason_counts(session, org.team.id) == {org.tags[0].id: 1}


def test_the_request_receipt_is_sealed_and_only_its_device_reads_that_reasons_were_added(
    client, session, app
) -> None:
    org = make_org(session)
    rating = rate(client, org)
    session.rollback()
    [before] = session.scalars(select(RequestReceipt.sealed)).all()
    client.post(URL, json=follow_up(rating, [org.tags[0].id]))
    session.rollback()
    [after] = session.scalars(select(RequestReceipt.sealed)).all()
    columns = set(RequestReceipt.__table__.columns.keys())
    assert columns == {"digest", "key_id", "sealed"}, "no team, no shift, no time in the clear"
    assert after != before and len(after) == len(before), "resealed, and the same length"

    from pulse.services.rating import KeyCache, derive_pepper
    from pulse.services.rating.lookup import find_receipt, request_keys

    rt = app.extensions["pulse"]
    keys = request_keys(session, KeyCache(derive_pepper(rt.settings.secret_key)), rt.now(), LONDON)
    found = find_receipt(session, keys, str(rating["device_secret"]), str(rating["idempotency_key"]))
    assert found is not None and found.payload.reasons_added and found.payload.team_id == org.team.id
    assert (
        find_receipt(session, keys, "another-device-secret-xxxxxxxxx", str(rating["idempotency_key"])) is None
    )


def test_reasons_need_the_device_and_key_of_a_counted_rating(client, session) -> None:
    org = make_org(session)
    rating = rate(client, org)
    wrong_key = client.post(URL, json=follow_up(rating, [org.tags[0].id], idempotency_key="never-used-1"))
    assert assert_problem(wrong_key, 404, "idempotency_key")["type"] == "urn:pulse:problem:rating-not-found"
    other_device = follow_up(rating, [org.tags[0].id], device_secret=rating_body("x" * 8)["device_secret"])
    assert_problem(client.post(URL, json=other_device), 404, "idempotency_key")
    assert reason_counts(session, org.team.id) == {}


def test_reasons_cannot_be_moved_to_another_team(client, session) -> None:
    org = make_org(session)
    rating = rate(client, org)
    elsewhere = follow_up(rating, [org.tags[0].id], join_code=org.teams[1].join_code)
    assert_problem(client.post(URL, json=elsewhere), 404, "idempotency_key")
    assert reason_counts(session, org.teams[1].id) == {}
    # The rightful team can still have them.
    assert client.post(URL, json=follow_up(rating, [org.tags[0].id])).status_code == 200


def test_unknown_or_retired_reasons_are_refused_by_name(client, session) -> None:
    org = make_org(session)
    rating = rate(client, org)
    org.tags[1].active = False
    session.commit()
    response = client.post(URL, json=follow_up(rating, [org.tags[0].id, org.tags[1].id]))
    assert assert_problem(response, 422, "reasons")["type"] == "urn:pulse:problem:unknown-reason"
    assert reason_counts(session, org.team.id) == {}
    # Nothing was used up: valid reasons can still follow.
    assert client.post(URL, json=follow_up(rating, [org.tags[0].id])).status_code == 200


def test_reasons_after_the_shift_has_closed_are_refused(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    rating = rate(client, org)  # Early, 07:00-15:00, grace 2 hours
    clock.set(dt.datetime(2026, 11, 18, 17, 0))
    response = client.post(URL, json=follow_up(rating, [org.tags[0].id]))
    assert assert_problem(response, 409)["type"] == "urn:pulse:problem:shift-closed"
    assert reason_counts(session, org.team.id) == {}


def test_reasons_after_midnight_for_a_night_shift_still_count(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    clock.set(dt.datetime(2026, 11, 18, 23, 59, 50))
    rating = rate(client, org, "amber")
    clock.set(dt.datetime(2026, 11, 19, 0, 0, 20))  # the request key of the day before is still looked up
    assert client.post(URL, json=follow_up(rating, [org.tags[0].id])).status_code == 200
    assert reason_counts(session, org.team.id) == {org.tags[0].id: 1}


def test_malformed_reasons_are_422_naming_the_field(client, session) -> None:
    org = make_org(session)
    rating = rate(client, org)
    for reasons in ([], [org.tags[0].id, org.tags[0].id], ["1"], list(range(1, 12))):
        errors = assert_problem(client.post(URL, json=follow_up(rating, reasons)), 422)["errors"]
        assert [field.split(".")[0] for field in errors] == ["reasons"], errors
    missing = follow_up(rating, [org.tags[0].id])
    del missing["idempotency_key"]
    assert_problem(client.post(URL, json=missing), 422, "idempotency_key")
    assert reason_counts(session, org.team.id) == {}
