"""A rating queued on a phone while offline arrives later with age_seconds: it counts for the shift it was
tapped in, once, as long as that shift is still open for rating."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from pulse.models import OrgShiftTally
from tests.api.test_ratings import URL, assert_problem, team_week, total_ratings
from tests.conftest import FakeClock
from tests.factories import make_org, mix_for, rating_body


def test_a_queued_rating_counts_for_the_shift_it_was_tapped_in(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    # Tapped at 14:50 in the Early (07:00-15:00); sent at 16:20, when the Late is the open band too.
    clock.set(dt.datetime(2026, 11, 18, 16, 20))
    response = client.post(URL, json=rating_body(org.team.join_code, "amber", age_seconds=90 * 60))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["shift_band"] == "Early"
    mix_for(session)
    bands = {row.band_id for row in session.scalars(select(OrgShiftTally)) if row.red + row.amber + row.green}
    assert bands == {org.bands["Early"].id}
    assert team_week(session, org.team.id) == (0, 1, 0, 1)


def test_a_queued_rating_sent_twice_counts_once(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    body = rating_body(org.team.join_code, "green", age_seconds=600)
    assert client.post(URL, json=body).status_code == 201
    clock.advance(minutes=5)  # the phone did not hear the answer and flushes its queue again, 5 minutes on
    again = client.post(URL, json={**body, "age_seconds": 900})
    assert again.status_code == 201
    assert total_ratings(session) == 1


def test_a_queued_rating_whose_shift_has_closed_is_refused_plainly(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    # Tapped at 10:00 in the Early; the phone was offline until 17:30, after the Early's grace (17:00) ended.
    clock.set(dt.datetime(2026, 11, 18, 17, 30))
    response = client.post(URL, json=rating_body(org.team.join_code, "red", age_seconds=int(7.5 * 3600)))
    body = assert_problem(response, 409, "age_seconds")
    assert body["type"] == "urn:pulse:problem:shift-closed"
    assert "Early" in body["detail"] and "closed" in body["detail"]
    assert total_ratings(session) == 0


def test_a_queued_rating_from_a_time_with_no_shift_is_refused(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    org.bands["Night"].active = False
    session.commit()
    # Sent at 08:00 in the Early; tapped at 03:00, when (without the Night) no band was open.
    clock.set(dt.datetime(2026, 11, 18, 8, 0))
    response = client.post(URL, json=rating_body(org.team.join_code, age_seconds=5 * 3600))
    assert assert_problem(response, 409)["type"] == "urn:pulse:problem:no-open-shift"
    assert team_week(session, org.team.id) is None


def test_age_seconds_must_be_a_whole_number_of_seconds_within_a_day(client, session) -> None:
    org = make_org(session)
    for age in (-1, 86_401, 1.5, "60", None):
        response = client.post(URL, json=rating_body(org.team.join_code, age_seconds=age))
        assert_problem(response, 422, "age_seconds")
    assert team_week(session, org.team.id) is None
