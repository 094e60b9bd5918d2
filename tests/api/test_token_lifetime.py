"""How long token seeds and issuance records live: the maintainer destroys a week's seed, with every
issuance record of the week, once the week's last slot (its Sunday night, plus the grace period) has closed;
its tokens are then refused as closed, never a server error."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import ShiftReceipt, TokenIssuance, TokenSeed
from pulse.services.maintenance import Maintainer, MaintenanceSettings
from pulse.services.rating import KeyFiles
from pulse.services.rating.keys import purge_expired
from pulse.services.tokens.keys import SAFETY_MARGIN
from tests.api.test_ratings import assert_problem
from tests.api.test_verified_rating import WEDNESDAY, WEEK, early, ready_phone, verified_org
from tests.conftest import LONDON, FakeClock
from tests.factories import mix_for
from tests.phone import KEYS_URL

NEXT_WEEK = WEEK + dt.timedelta(days=7)
SUNDAY = WEEK + dt.timedelta(days=6)
# Sunday's Night shift ends at 07:30 on Monday; with two hours' grace it closes at 09:30.
LAST_SLOT_CLOSES = dt.datetime(2026, 11, 23, 9, 30, tzinfo=LONDON)


def maintain(app: Flask, now: dt.datetime) -> None:
    rt = app.extensions["pulse"]
    settings = rt.settings
    maintainer = Maintainer(rt.engine, rt.write_session_factory, KeyFiles(settings.inbox_keys))
    maintainer.tick(now, MaintenanceSettings.of(settings))


def weeks_held(session: Session) -> tuple[list[dt.date], dict[dt.date, int]]:
    session.rollback()
    seeds = list(session.scalars(select(TokenSeed.week_start).order_by(TokenSeed.week_start)))
    rows = session.execute(select(TokenIssuance.week_start, func.count()).group_by(TokenIssuance.week_start))
    held = seeds, dict(rows.all())
    session.rollback()  # no read left open: the maintainer's VACUUM would wait for it
    return held


def test_the_maintainer_destroys_a_weeks_seed_and_records_once_its_last_slot_has_closed(
    app: Flask, client: FlaskClient, session: Session, clock: FakeClock
) -> None:
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    phone.fetch_week(org.team.id, NEXT_WEEK)
    night = org.bands["Night"].id
    before = weeks_held(session)
    assert before[0] == [WEEK, NEXT_WEEK] and before[1][WEEK] == 22 and before[1][NEXT_WEEK] == 30

    just_before = LAST_SLOT_CLOSES + SAFETY_MARGIN - dt.timedelta(minutes=1)
    clock.set(just_before)
    maintain(app, just_before)
    assert weeks_held(session) == before, "Sunday's night shift may still be rated"

    after = LAST_SLOT_CLOSES + SAFETY_MARGIN
    clock.set(after)
    maintain(app, after)
    assert weeks_held(session) == ([NEXT_WEEK], {NEXT_WEEK: 30})
    refused = assert_problem(phone.rate(org.team.join_code, org.team.id, SUNDAY, night), 409, "token")
    assert refused["type"] == "urn:pulse:problem:shift-closed"
    gone = client.get(KEYS_URL, query_string={"team_id": org.team.id, "week": WEEK.isoformat()})
    assert_problem(gone, 422, "week")


def test_sundays_night_token_counts_after_midnight(
    client: FlaskClient, session: Session, clock: FakeClock
) -> None:
    """On Monday morning the week before is still live until its night shift closes: its seed is kept,
    its token is checked with it, and the rating belongs to the week before."""
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    clock.set(dt.datetime(2026, 11, 23, 7, 45, tzinfo=LONDON))
    response = phone.rate(org.team.join_code, org.team.id, SUNDAY, org.bands["Night"].id)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["shift_date"] == SUNDAY.isoformat()


def test_a_spent_tokens_receipt_is_forgotten_with_its_days_key(
    client: FlaskClient, session: Session, clock: FakeClock
) -> None:
    """The receipt that refuses a token's second spending is kept only while its day's shifts may be rated:
    the purge of the day's key takes it, and the token is then refused as closed, not as spent."""
    org, people = verified_org(session)
    phone = ready_phone(client, session, people[0], org)
    assert phone.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org)).status_code == 201
    spent_again = phone.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    assert assert_problem(spent_again, 409)["type"] == "urn:pulse:problem:already-rated"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ShiftReceipt)) >= 1

    mix_for(session)  # the mixer needs the day's key until it has released the day's parts
    # Thursday noon: Wednesday's last shift (Night, to 07:30) closed at 09:30, and its key with it.
    thursday = dt.datetime(2026, 11, 19, 12, 0, tzinfo=LONDON)
    assert purge_expired(session, thursday, LONDON, dt.timedelta(minutes=120)) >= 1
    session.commit()
    assert session.scalar(select(func.count()).select_from(ShiftReceipt)) == 0, "no receipt outlives its day"

    clock.set(thursday)
    replayed = phone.rate(org.team.join_code, org.team.id, WEDNESDAY, early(org))
    assert assert_problem(replayed, 409, "token")["type"] == "urn:pulse:problem:shift-closed"
