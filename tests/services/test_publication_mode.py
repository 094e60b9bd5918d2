"""Each published week says which rating mode its figures come from: verified only when every rating of the
week needed a token (the mode was verified from before its Monday and still is), open otherwise."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse import published
from pulse.models import Level, PublishedWeek, RatingMode
from pulse.services.accounts import roster
from pulse.services.organisation import set_rating_mode, week_rating_mode
from pulse.services.publication import publish_week
from tests.factories import add_week, make_org
from tests.factories_roster import put_on_team

WEEK = dt.date(2026, 11, 9)  # Monday of a closed week, given the test clock's Wednesday 18 November
TODAY = dt.date(2026, 11, 18)


@pytest.mark.parametrize(
    ("mode", "since", "expected"),
    [
        (RatingMode.OPEN, None, RatingMode.OPEN),
        (RatingMode.VERIFIED, dt.date(2026, 11, 8), RatingMode.VERIFIED),  # switched the Sunday before
        (RatingMode.VERIFIED, dt.date(2026, 11, 1), RatingMode.VERIFIED),
        (RatingMode.VERIFIED, WEEK, RatingMode.OPEN),  # switched on the Monday: its first hours were open
        (RatingMode.VERIFIED, dt.date(2026, 11, 12), RatingMode.OPEN),  # during the week
        (RatingMode.VERIFIED, dt.date(2026, 11, 17), RatingMode.OPEN),  # after it, before publication
        (RatingMode.VERIFIED, None, RatingMode.OPEN),  # not known
        (RatingMode.OPEN, dt.date(2026, 11, 1), RatingMode.OPEN),  # back to open since: the weaker promise
    ],
)
def test_a_week_is_verified_only_if_every_rating_of_it_was(
    session: Session, mode: RatingMode, since: dt.date | None, expected: RatingMode
) -> None:
    org = make_org(session)
    add_week(session, org, WEEK, {0: (2, 4, 6, 12), 1: (3, 5, 7, 15)})
    set_rating_mode(session, mode, since=since)
    assert week_rating_mode(session, WEEK) == expected
    assert publish_week(session, WEEK, k=5, today=TODAY)
    session.commit()
    assert session.scalar(select(PublishedWeek.rating_mode)) == expected
    series = published.weekly_series(session, Level.TEAM, org.team.id, WEEK, WEEK)
    assert [(w["week_start"], w["rating_mode"]) for w in series] == [(WEEK, expected.value)]
    [department] = published.departments_weekly_series(session, WEEK, WEEK)
    assert department["weeks"][0]["rating_mode"] == expected.value


def test_switching_records_the_day(session: Session) -> None:
    org = make_org(session)
    for team in org.teams:
        put_on_team(session, team, f"nurse@{team.id}.example.nhs.uk")
    assert roster.switch_rating_mode(session, None, RatingMode.VERIFIED, today=dt.date(2026, 11, 1))
    assert week_rating_mode(session, WEEK) == RatingMode.VERIFIED
    assert roster.switch_rating_mode(session, None, RatingMode.OPEN, today=dt.date(2026, 11, 20))
    assert week_rating_mode(session, WEEK) == RatingMode.OPEN


def test_the_api_gives_each_weeks_mode(client, session: Session) -> None:
    org = make_org(session)
    add_week(session, org, WEEK, {0: (2, 4, 6, 12), 1: (3, 5, 7, 15)})
    set_rating_mode(session, RatingMode.VERIFIED, since=dt.date(2026, 11, 2))
    publish_week(session, WEEK, k=5, today=TODAY)
    session.commit()
    weeks = client.get(f"/api/v1/figures/teams/{org.team.id}/weeks").get_json()
    assert [(w["week_start"], w["rating_mode"]) for w in weeks] == [(WEEK.isoformat(), "verified")]
