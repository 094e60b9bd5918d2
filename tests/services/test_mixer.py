"""The sealed inbox and the mixer: ratings reach the tallies only through the mixer, exactly once, through
crashes and concurrent closes; the organisation's shifts move by k ratings or a closed shift's remainder, the
teams' weeks together after the week; once released, nothing left can be read (docs/anonymity.md A10-A12)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import InboxEpoch, InboxItem, RatingKey, ReleasedWeek, TeamWeekTally
from pulse.services.maintenance import MaintainerBusy, MaintainerLock
from pulse.services.publication import due_weeks
from pulse.services.rating import KeyFiles, Schedule, mix, purge_expired
from pulse.services.rating.inbox import newest_open_epoch
from pulse.services.rating.sealing import (
    ITEM_PLAINTEXT_BYTES,
    SealedRating,
    SealedReasons,
    UnreadableItem,
    new_epoch_key,
    open_item,
    seal_item,
)
from pulse.services.tallies import org_shift_totals
from tests.conftest import LONDON, POSTGRES_URL, FakeClock
from tests.factories import make_org, mix_for, rating_body

# Opens many database connections at once: never beside another such test (pyproject's --dist loadgroup).
pytestmark = pytest.mark.xdist_group("many-connections")

URL = "/api/v1/ratings"
WEEK = dt.date(2026, 11, 16)
GRACE = dt.timedelta(hours=2)


def keys_of(app) -> KeyFiles:  # type: ignore[no-untyped-def]
    return KeyFiles(app.extensions["pulse"].settings.inbox_keys)


def team_total(session: Session, team_id: int) -> int:
    session.rollback()
    row = session.get(TeamWeekTally, (team_id, WEEK))
    return 0 if row is None else row.red + row.amber + row.green


def waiting(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(InboxItem)) or 0


def run_mix(app, *, force: bool = True, drop_unreadable: bool = False):  # type: ignore[no-untyped-def]
    rt = app.extensions["pulse"]
    schedule = Schedule(LONDON, GRACE, rt.settings.min_group_size, rt.settings.mix_minutes)
    return mix(
        rt.write_session_factory,
        keys_of(app),
        rt.now(),
        schedule,
        force=force,
        drop_unreadable=drop_unreadable,
    )


def shift_total(session: Session) -> int:
    session.rollback()
    return sum(row.red + row.amber + row.green for row in org_shift_totals(session))


def test_sealed_items_have_one_length_and_open_only_with_their_key() -> None:
    private, public = new_epoch_key()
    other, _ = new_epoch_key()
    small = SealedRating(1, dt.date(2026, 11, 18), 1, "red")
    large = SealedRating(
        123456, dt.date(2026, 11, 18), 99, "amber", tuple(range(1, 11)), b"c" * 32, b"d" * 32, tap=False
    )
    reasons = SealedReasons(7, dt.date(2026, 11, 18), (3, 4))
    sealed = [seal_item(public, item) for item in (small, large, reasons)]
    assert len({len(s) for s in sealed}) == 1, "the length of what is stored tells nothing"
    assert len(sealed[0]) == ITEM_PLAINTEXT_BYTES + 32 + 16  # X25519 share, then the AEAD tag
    assert [open_item(private, s) for s in sealed] == [small, large, reasons]
    assert seal_item(public, small) != sealed[0], "sealing is randomised"
    with pytest.raises(UnreadableItem):
        open_item(other, sealed[0])


def test_a_rating_reaches_the_tallies_only_through_the_mixer(client, session, app) -> None:
    org = make_org(session)
    assert client.post(URL, json=rating_body(org.team.join_code, "red")).status_code == 201
    assert team_total(session, org.team.id) == 0 and shift_total(session) == 0, "sealed, not yet counted"
    assert waiting(session) == 1
    report = run_mix(app)
    assert (report.org_parts, report.ratings, report.destroyed_keys) == (1, 1, 1)
    assert team_total(session, org.team.id) == 1 and shift_total(session) == 1 and waiting(session) == 0


def test_a_released_epochs_key_is_destroyed_and_its_leftovers_cannot_be_read(client, session, app) -> None:
    org = make_org(session)
    assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    session.rollback()
    epoch = newest_open_epoch(session)
    [sealed] = session.scalars(select(InboxItem.sealed)).all()
    private = keys_of(app).read(epoch.public_key)
    assert private is not None and open_item(private, bytes(sealed)).team_id == org.team.id
    run_mix(app)
    assert keys_of(app).read(epoch.public_key) is None, "the key is gone"
    assert epoch.public_key not in keys_of(app).public_keys()
    session.rollback()
    assert session.get(InboxEpoch, epoch.id) is None
    # The only other key left is the new, open epoch's: a leftover copy of the item opens with neither.
    for public in keys_of(app).public_keys():
        other = keys_of(app).read(public)
        assert other is not None
        with pytest.raises(UnreadableItem):
            open_item(other, bytes(sealed))


def test_shifts_move_by_k_or_when_they_close_and_teams_only_when_the_week_has(
    client, session, app, clock: FakeClock
) -> None:
    """The organisation's shift tallies move in steps of k, or by a closed shift's remainder; the teams'
    weeks stay untouched until the week has closed, then get all their ratings at once."""
    org = make_org(session, headcount=50)
    k = app.extensions["pulse"].settings.min_group_size
    minutes = app.extensions["pulse"].settings.mix_minutes
    for _ in range(k - 1):
        assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    clock.advance(minutes=minutes)  # the epoch is old enough to close
    assert run_mix(app, force=False).org_parts == 0, "fewer than k of the shift: they wait"
    assert client.post(URL, json=rating_body(org.teams[1].join_code, "red")).status_code == 201
    clock.advance(minutes=minutes)
    assert run_mix(app, force=False).org_parts == k, "k of the shift: released"
    assert shift_total(session) == k
    session.rollback()
    assert WEEK not in session.scalars(select(ReleasedWeek.week_start)).all()
    assert team_total(session, org.team.id) == team_total(session, org.teams[1].id) == 0, "teams: not yet"

    assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    clock.set(dt.datetime(2026, 11, 18, 17, 5, tzinfo=LONDON))  # the Early has closed for rating
    assert run_mix(app, force=False).org_parts == 1, "a closed shift's remainder"
    assert shift_total(session) == k + 1
    clock.set(dt.datetime(2026, 11, 23, 11, 0, tzinfo=LONDON))  # Monday: the week has closed
    report = run_mix(app, force=False)
    assert (report.ratings, report.weeks) == (k + 1, 1)
    assert team_total(session, org.team.id) == k and team_total(session, org.teams[1].id) == 1
    session.rollback()
    assert WEEK in session.scalars(select(ReleasedWeek.week_start)).all()
    assert waiting(session) == 0


def test_a_crash_before_a_release_commits_loses_nothing_and_counts_once(
    client, session, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_org(session)
    for colour in ("red", "green"):
        assert client.post(URL, json=rating_body(org.team.join_code, colour)).status_code == 201

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("power cut in the middle of the release")

    monkeypatch.setattr("pulse.services.rating.mixer.release_team_parts", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        run_mix(app)
    monkeypatch.undo()
    assert team_total(session, org.team.id) == 0 and waiting(session) == 2
    assert shift_total(session) == 2, "the organisation's parts were released in a transaction of their own"
    report = run_mix(app)
    assert (report.org_parts, report.ratings) == (0, 2), "each part once"
    assert team_total(session, org.team.id) == 2 and shift_total(session) == 2
    assert run_mix(app).ratings == 0, "nothing counted twice"


def test_a_crash_before_a_key_is_destroyed_destroys_it_next_time(
    client, session, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_org(session)
    assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    session.rollback()
    epoch = newest_open_epoch(session)

    def crash(_self: KeyFiles, _public: bytes) -> None:
        raise RuntimeError("power cut before the key was destroyed")

    monkeypatch.setattr(KeyFiles, "destroy", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        run_mix(app)
    monkeypatch.undo()
    assert keys_of(app).read(epoch.public_key) is not None and team_total(session, org.team.id) == 1
    report = run_mix(app)
    assert report.ratings == 0 and report.destroyed_keys >= 1
    assert keys_of(app).read(epoch.public_key) is None
    assert team_total(session, org.team.id) == 1


def test_weeks_are_published_only_once_their_ratings_are_mixed(
    client, session, app, clock: FakeClock
) -> None:
    org = make_org(session)
    assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    later = dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON)  # the week has closed
    session.rollback()
    assert due_weeks(session, later, LONDON, GRACE) == [], "its rating is still sealed"
    mix_for(session)
    assert due_weeks(session, later, LONDON, GRACE) == [WEEK]


def test_keys_outlive_their_period_while_the_inbox_still_needs_them(client, session, app) -> None:
    org = make_org(session)
    assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    later = dt.datetime(2026, 11, 26, 12, 0, tzinfo=LONDON)
    session.rollback()
    purge_expired(session, later, LONDON, GRACE)
    session.commit()
    kept = {k.purpose.value for k in session.scalars(select(RatingKey))}
    assert {"shift", "week"} <= kept, "the mixer needs them to count the waiting rating's contributors"
    mix_for(session)
    session.execute(select(TeamWeekTally)).all()
    row = session.get(TeamWeekTally, (org.team.id, WEEK))
    assert row is not None and row.contributors == 1
    purge_expired(session, later, LONDON, GRACE)
    session.commit()
    assert session.scalar(select(func.count()).select_from(RatingKey)) == 0


def test_after_a_restore_the_keyless_open_epoch_is_closed_and_its_ratings_can_be_dropped(
    client, session, app, tmp_path
) -> None:
    """A backup holds an open epoch whose key has since been destroyed: no rating may be sealed to it again,
    and publication must not wait for it forever."""
    org = make_org(session)
    assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    session.rollback()
    lost = newest_open_epoch(session)
    keys_of(app).destroy(lost.public_key)  # as if the database had been restored from a backup
    report = run_mix(app, force=False)
    assert report.opened == 1 and report.ratings == 0
    session.rollback()
    assert newest_open_epoch(session).id != lost.id, "new ratings go to an epoch whose key exists"
    assert waiting(session) == 1, "waiting for its key, not thrown away without being asked"
    assert run_mix(app, drop_unreadable=True).dropped == 1
    assert waiting(session) == 0
    app.extensions["pulse.rating_path"] = None  # a fresh process: the epoch is read again
    assert client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    assert run_mix(app).ratings == 1


def test_only_one_maintainer_at_a_time(app) -> None:
    rt = app.extensions["pulse"]
    first = MaintainerLock(rt.engine, keys_of(app))
    first.acquire()
    try:
        with pytest.raises(MaintainerBusy):
            MaintainerLock(rt.engine, keys_of(app)).acquire()
    finally:
        first.release()
    again = MaintainerLock(rt.engine, keys_of(app))
    again.acquire()
    again.release()


@pytest.mark.postgres
def test_ratings_racing_the_close_of_their_epoch_are_never_lost_or_counted_twice(app, session) -> None:
    """Writers seal to the epoch they know of; the mixer closes it under them, again and again. Every
    acknowledged rating must be in the tallies once: none committed to an epoch after it was mixed."""
    assert POSTGRES_URL
    org = make_org(session, headcount=1000)
    acknowledged = 0
    lock = threading.Lock()
    stop = threading.Event()

    def rate() -> None:
        nonlocal acknowledged
        client = app.test_client()
        while not stop.is_set():
            if client.post(URL, json=rating_body(org.team.join_code)).status_code == 201:
                with lock:
                    acknowledged += 1

    threads = [threading.Thread(target=rate) for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        mixes = 0
        while mixes < 15 or acknowledged < 60:
            run_mix(app)
            mixes += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    run_mix(app)
    assert team_total(session, org.team.id) == acknowledged
    assert waiting(session) == 0


def test_an_item_is_never_filed_under_an_epoch_whose_key_it_was_not_sealed_to(client, session, app) -> None:
    """A process remembers the epoch it seals to by id and key. Should that id ever name another epoch (a
    database restored, say), the write is refused as stale and the rating sealed again, never lost."""
    org = make_org(session)
    assert (
        client.post(URL, json=rating_body(org.team.join_code)).status_code == 201
    )  # the epoch is remembered
    run_mix(app)  # a new epoch is open now
    session.rollback()
    current = newest_open_epoch(session)
    remembered = app.extensions["pulse.rating_path"].path.epochs
    from pulse.services.rating.inbox import Epoch

    _private, stale_key = new_epoch_key()
    with remembered._lock:
        remembered._epoch = Epoch(current.id, stale_key)  # the same id, another key
    assert client.post(URL, json=rating_body(org.team.join_code, "red")).status_code == 201
    assert run_mix(app).ratings == 1, "sealed to the open epoch's own key, so it could be opened"
    assert team_total(session, org.team.id) == 2
