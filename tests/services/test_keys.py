"""Keys rotate per period and are destroyed, with their digests, once the period has closed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import ContributorReceipt, RatingKey, RequestReceipt, ShiftReceipt
from pulse.models.receipts import KeyPurpose
from pulse.services.rating.keys import ABSENT_SECONDS, KeyCache, ensure_keys, purge_expired
from pulse.services.rating.sealing import derive_pepper
from tests.conftest import LONDON, FakeClock
from tests.factories import device_secret, make_org, mix_for, rating_body

GRACE = dt.timedelta(minutes=120)
PEPPER = derive_pepper("a test secret key of at least thirty-two characters")


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def keys(session: Session) -> set[tuple[str, dt.date]]:
    session.rollback()  # end the read snapshot so the next read sees new commits
    return {(k.purpose.value, k.period_start) for k in session.scalars(select(RatingKey))}


def test_each_day_and_week_gets_its_own_key(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    secret = device_secret()
    for day in (18, 19):  # Wednesday and Thursday of the same ISO week
        clock.set(dt.datetime(2026, 11, day, 10, 0, tzinfo=LONDON))
        body = rating_body(org.team.join_code, device_secret=secret)
        assert client.post("/api/v1/ratings", json=body).status_code == 201
    found = keys(session)
    assert ("shift", dt.date(2026, 11, 18)) in found and ("shift", dt.date(2026, 11, 19)) in found
    assert [k for k in found if k[0] == "week"] == [("week", dt.date(2026, 11, 16))]
    secrets_ = [k.secret for k in session.scalars(select(RatingKey))]
    assert len(set(secrets_)) == len(secrets_), "every key is independently random"


def test_purge_destroys_closed_keys_and_their_digests_only(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    assert client.post("/api/v1/ratings", json=rating_body(org.team.join_code)).status_code == 201
    mix_for(
        session
    )  # the mixer records the contributor digests: the team's week, the organisation's day and week
    assert count(session, ShiftReceipt) == count(session, RequestReceipt) == 1
    assert count(session, ContributorReceipt) == 3

    # Thursday noon: Wednesday's shifts closed at 09:30 + margin, but the week and the request key live on.
    destroyed = purge_expired(session, dt.datetime(2026, 11, 19, 12, 0, tzinfo=LONDON), LONDON, GRACE)
    session.commit()
    assert destroyed == 1
    assert ("shift", dt.date(2026, 11, 18)) not in keys(session)
    assert count(session, ShiftReceipt) == 0
    assert count(session, ContributorReceipt) == 2, "the day's digest went with the shift key"

    # The Tuesday after: the week (and its Sunday night) has closed; so has the request key.
    destroyed = purge_expired(session, dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), LONDON, GRACE)
    session.commit()
    assert destroyed == 2
    assert keys(session) == set()
    assert count(session, ContributorReceipt) == count(session, RequestReceipt) == 0


def test_a_new_period_purges_old_keys_automatically(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    assert client.post("/api/v1/ratings", json=rating_body(org.team.join_code)).status_code == 201
    mix_for(session)
    clock.set(dt.datetime(2026, 11, 30, 10, 0, tzinfo=LONDON))  # a rating in a later week creates new keys
    assert client.post("/api/v1/ratings", json=rating_body(org.team.join_code)).status_code == 201
    periods = keys(session)
    assert all(day >= dt.date(2026, 11, 29) for _, day in periods), periods
    assert count(session, ShiftReceipt) == 1


def test_purge_is_safe_to_repeat(session) -> None:
    make_org(session)
    now = dt.datetime(2026, 11, 19, 12, 0, tzinfo=LONDON)
    assert purge_expired(session, now, LONDON, GRACE) == 0
    assert purge_expired(session, now, LONDON, GRACE) == 0
    assert KeyPurpose.SHIFT.value == "shift"


class Statements:
    """Counts the statements a session sends about keys."""

    def __init__(self, session: Session) -> None:
        from sqlalchemy import event

        self.count = 0
        event.listen(session.get_bind(), "before_cursor_execute", self._seen)
        self._engine = session.get_bind()

    def _seen(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.count += "rating_key" in statement

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self._engine, "before_cursor_execute", self._seen)


def test_a_key_cache_reads_each_existing_key_once(session) -> None:
    today, yesterday = dt.date(2026, 11, 18), dt.date(2026, 11, 17)
    wanted = [(KeyPurpose.REQUEST, today), (KeyPurpose.SHIFT, today)]
    ensure_keys(session, wanted, pepper=PEPPER)
    session.commit()
    now = [1000.0]
    cache = KeyCache(PEPPER, monotonic=lambda: now[0])
    statements = Statements(session)
    try:
        first, created = cache.get(session, wanted, [(KeyPurpose.REQUEST, yesterday)])
        assert not created and statements.count == 1
        assert first == ensure_keys(session, wanted, pepper=PEPPER)[0], "the same keys as the database holds"
        statements.count = 0
        again, _ = cache.get(session, wanted, [(KeyPurpose.REQUEST, yesterday)])
        assert again == first and statements.count == 0, "known keys, and a known absence, read nothing"
        now[0] += ABSENT_SECONDS
        cache.get(session, wanted, [(KeyPurpose.REQUEST, yesterday)])
        assert statements.count == 1, "an absence is believed for ABSENT_SECONDS only"
        cache.clear()
        statements.count = 0
        cache.get(session, wanted)
        assert statements.count == 1
    finally:
        statements.close()


def test_a_key_cache_does_not_remember_keys_it_created(session) -> None:
    """A key created in a transaction that is then rolled back must not outlive it in the cache."""
    day = dt.date(2026, 11, 18)
    cache = KeyCache(PEPPER)
    made, created = cache.get(session, [(KeyPurpose.SHIFT, day)])
    assert created
    session.rollback()
    remade, created_again = cache.get(session, [(KeyPurpose.SHIFT, day)])
    assert created_again, "the rolled-back key was not taken from the cache"
    assert remade[(KeyPurpose.SHIFT, day)].secret != made[(KeyPurpose.SHIFT, day)].secret


def test_keys_are_used_peppered_so_the_database_alone_cannot_recompute_a_digest(session) -> None:
    """A key read from the database is the stored secret under the pepper: someone with the database's
    credentials but not the application's secret key holds the stored secret only."""
    day = dt.date(2026, 11, 18)
    used, _ = ensure_keys(session, [(KeyPurpose.SHIFT, day)], pepper=PEPPER)
    session.commit()
    stored = session.scalar(select(RatingKey.secret))
    assert used[(KeyPurpose.SHIFT, day)].secret != stored
    other, _ = ensure_keys(session, [(KeyPurpose.SHIFT, day)], pepper=derive_pepper("another secret key" * 2))
    assert other[(KeyPurpose.SHIFT, day)].secret != used[(KeyPurpose.SHIFT, day)].secret
