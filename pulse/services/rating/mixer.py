"""The mixer: the only way ratings reach the tallies (docs/anonymity.md A10-A12).

Ratings wait in the sealed inbox, each encrypted to the public key of the epoch it arrived in. The mixer
alone holds the epochs' private keys, in files of its own (never in the database, so never in its write-ahead
log or backups). Every run it:

1. opens an epoch if none is open, and closes the open one once it is `mix_minutes` old or holds k ratings
   (opening the next first; the close waits for any rating still being written to it);
2. releases the organisation parts of closed epochs' ratings, shift by shift, once k of a shift wait or the
   shift has closed for rating (rating.release);
3. once a week has closed, releases the team parts of all its ratings at once, for every team, and records
   the week as released, so that it may be published;
4. destroys the key of every closed epoch with no item left, then forgets the epoch.

Each release is one transaction, so a crash leaves a part to be released again, never twice; a key is
destroyed only after its last item is gone. So every acknowledged rating is counted exactly once, the
tallies only ever move by a shift's k ratings, a closed shift's remainder, or a closed week, and once a
rating is released nothing left can be read.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from pulse.models import InboxEpoch, InboxItem, ReleasedWeek, ShiftBand
from pulse.models.inbox import EPOCH_CLOSED, EPOCH_OPEN
from pulse.services.rating.inbox import select_newest_open_epoch
from pulse.services.rating.keyfiles import KeyFiles
from pulse.services.rating.release import (
    OpenedItem,
    mark_weeks_released,
    release_org_parts,
    release_team_parts,
)
from pulse.services.rating.sealing import SealedRating, UnreadableItem, new_epoch_key, open_item
from pulse.services.shifts import band_window, day_closes_at, week_start

log = logging.getLogger(__name__)


@dataclass
class MixReport:
    """What one run of the mixer did."""

    opened: int = 0
    org_parts: int = 0  # ratings whose organisation part was released
    ratings: int = 0  # ratings whose team part was released: now wholly in the tallies
    reasons: int = 0  # sets of reasons released
    weeks: int = 0  # closed weeks released
    unreadable: int = 0
    destroyed_keys: int = 0
    waiting: int = 0  # items still in the inbox after this run
    dropped: int = 0  # items of epochs whose key was gone (drop_unreadable)


@dataclass(frozen=True)
class Schedule:
    """What the mixer needs of the organisation's settings."""

    tz: ZoneInfo
    grace: dt.timedelta
    k: int
    mix_minutes: int


def mix(
    sessions: sessionmaker[Session],
    keys: KeyFiles,
    now: dt.datetime,
    schedule: Schedule,
    *,
    force: bool = False,
    drop_unreadable: bool = False,
) -> MixReport:
    """One run of the mixer (see the module's docstring). Run by one process at a time (pulse maintain holds
    a lock); each step commits on its own.

    `force` closes the open epoch and releases every part now, however few and whatever the week (for a
    trial, a test, a benchmark or a downgrade); a week is still recorded as released only once it has closed.
    A closed epoch whose key is not in `keys` waits, logged each time, for the key to come back; with
    `drop_unreadable` (after a restore from backup, whose sealed ratings can never be read) it is dropped.
    """
    report = MixReport()
    with sessions() as session:
        report.opened += ensure_open_epoch(session, keys, now)
        session.commit()
    with sessions() as session:
        if force or _open_epoch_due(session, now, schedule):
            _rotate(session, keys, now)
            report.opened += 1
        session.commit()
    with sessions() as session:
        _drop_or_report_keyless(session, keys, report, drop=drop_unreadable)
        session.commit()
    with sessions() as session:
        pending = _open_items(session, keys, report, org_pending_only=True)
        due = _org_parts_due(session, pending, now, schedule, force)
        report.org_parts += release_org_parts(session, due)
        session.commit()
    with sessions() as session:
        _release_weeks(session, keys, now, schedule, report, force=force)
        session.commit()
    report.destroyed_keys += _destroy_spent_keys(sessions, keys)
    with sessions() as session:
        report.waiting = session.scalar(select(func.count()).select_from(InboxItem)) or 0
    return report


def ensure_open_epoch(session: Session, keys: KeyFiles, now: dt.datetime) -> int:
    """Open an epoch if none is open (on the first run), or if the open one's key is not in `keys` (after a
    restore from backup, or a lost key folder): no rating may be sealed to a key nobody holds. Returns how
    many it opened. The caller commits."""
    newest = session.execute(select_newest_open_epoch()).first()
    if newest is not None and keys.read(bytes(newest.public_key)) is not None:
        return 0
    if newest is not None:
        log.error(
            "The open inbox epoch %s has no key in %s: closed, so that ratings are sealed to a new one.",
            newest.id,
            keys.folder,
        )
    _rotate(session, keys, now)
    return 1


def _rotate(session: Session, keys: KeyFiles, now: dt.datetime) -> None:
    """Open a new epoch, then close every older open one. On PostgreSQL the close waits for every rating
    still being written to them (they hold a share lock on the epoch's row); a rating that comes after finds
    its epoch closed and seals to the new one."""
    # The key is on disk before its public half is published, so no rating is ever sealed to a lost key.
    private, public = new_epoch_key()
    keys.write(public, private)
    epoch = InboxEpoch(public_key=public, state=EPOCH_OPEN, opened_at=now)
    session.add(epoch)
    session.flush()
    session.execute(
        update(InboxEpoch)
        .where(InboxEpoch.state == EPOCH_OPEN, InboxEpoch.id < epoch.id)
        .values(state=EPOCH_CLOSED)
    )


def _open_epoch_due(session: Session, now: dt.datetime, schedule: Schedule) -> bool:
    epoch = session.execute(select_newest_open_epoch()).one()
    waiting = session.scalar(select(func.count()).where(InboxItem.epoch_id == epoch.id)) or 0
    old = now - _aware(epoch.opened_at) >= dt.timedelta(minutes=schedule.mix_minutes)
    return waiting >= schedule.k or bool(waiting and old)


def _open_items(
    session: Session,
    keys: KeyFiles,
    report: MixReport,
    *,
    org_pending_only: bool,
    opened_before: dt.datetime | None = None,
) -> list[OpenedItem]:
    """The items of closed epochs whose key is here, opened (only those whose organisation part waits, if
    `org_pending_only`; only epochs opened before `opened_before`, if given)."""
    epochs = select(InboxEpoch.id, InboxEpoch.public_key).where(InboxEpoch.state == EPOCH_CLOSED)
    if opened_before is not None:
        epochs = epochs.where(InboxEpoch.opened_at < opened_before)
    opened: list[OpenedItem] = []
    for epoch_id, public_key in session.execute(epochs.order_by(InboxEpoch.id)).all():
        private = keys.read(bytes(public_key))
        if private is None:
            continue  # reported by _drop_or_report_keyless
        query = select(InboxItem.id, InboxItem.sealed, InboxItem.org_applied).where(
            InboxItem.epoch_id == epoch_id
        )
        if org_pending_only:
            query = query.where(InboxItem.org_applied.is_(False))
        opened += _open_all(session, private, query, epoch_id, report)
    return opened


def _open_all(
    session: Session,
    private: X25519PrivateKey,
    query: Select[bytes, bytes, bool],
    epoch_id: int,
    report: MixReport,
) -> list[OpenedItem]:
    out = []
    for item_id, sealed, org_applied in session.execute(query):
        try:
            out.append(OpenedItem(bytes(item_id), bool(org_applied), open_item(private, bytes(sealed))))
        except UnreadableItem:
            report.unreadable += 1
            log.error("An inbox item of epoch %s could not be opened; it is dropped.", epoch_id)
            session.execute(delete(InboxItem).where(InboxItem.id == item_id))
    return out


def _org_parts_due(
    session: Session, pending: Sequence[OpenedItem], now: dt.datetime, schedule: Schedule, force: bool
) -> list[OpenedItem]:
    """The waiting organisation parts to release now: every shift's once k wait or the shift has closed for
    rating (all of them, with `force`)."""
    by_shift: dict[tuple[dt.date, int], list[OpenedItem]] = defaultdict(list)
    for item in pending:
        if isinstance(item.content, SealedRating):
            by_shift[(item.content.shift_date, item.content.band_id)].append(item)
    bands = {band.id: band for band in session.scalars(select(ShiftBand))}
    due = []
    for (shift_date, band_id), items in by_shift.items():
        band = bands.get(band_id)
        closed = band is None or now >= band_window(band, shift_date, schedule.tz)[1] + schedule.grace
        if force or closed or len(items) >= schedule.k:
            due += items
    return due


def _release_weeks(
    session: Session,
    keys: KeyFiles,
    now: dt.datetime,
    schedule: Schedule,
    report: MixReport,
    *,
    force: bool,
) -> None:
    """Release the team parts of every closed week not yet released (with `force`, of every week waiting)."""
    bands = session.scalars(select(ShiftBand)).all()
    latest = _latest_closed_week(bands, now, schedule)
    released = session.scalar(select(func.max(ReleasedWeek.week_start)))
    if not force and released is not None and released >= latest:
        return
    closes = day_closes_at(bands, latest + dt.timedelta(days=6), schedule.tz, schedule.grace)
    if not force and _open_epoch_opened_before(session, closes):
        # Ratings of the week may still be in the open epoch: close it first, so its items are final.
        _rotate(session, keys, now)
        report.opened += 1
    items = _open_items(
        session, keys, report, org_pending_only=False, opened_before=None if force else closes
    )
    by_week: dict[dt.date, list[OpenedItem]] = defaultdict(list)
    for item in items:
        if force or item.week <= latest:
            by_week[item.week].append(item)
    for week in sorted(by_week):
        ratings, reasons = release_team_parts(session, by_week[week])
        report.ratings += ratings
        report.reasons += reasons
    if _keyless_items_before(session, keys, closes):
        return  # some ratings of these weeks cannot be read until their key is back, or they are dropped
    first = released + dt.timedelta(weeks=1) if released is not None else min([latest, *by_week])
    weeks = [first + dt.timedelta(weeks=n) for n in range((latest - first).days // 7 + 1)]
    mark_weeks_released(session, weeks)
    report.weeks += len(weeks)


def _latest_closed_week(bands: Sequence[ShiftBand], now: dt.datetime, schedule: Schedule) -> dt.date:
    week = week_start(now.astimezone(schedule.tz).date()) - dt.timedelta(weeks=1)
    if now >= day_closes_at(list(bands), week + dt.timedelta(days=6), schedule.tz, schedule.grace):
        return week
    return week - dt.timedelta(weeks=1)


def _open_epoch_opened_before(session: Session, moment: dt.datetime) -> bool:
    return (
        session.scalar(
            select(InboxEpoch.id)
            .where(InboxEpoch.state == EPOCH_OPEN, InboxEpoch.opened_at < moment)
            .limit(1)
        )
        is not None
    )


def _keyless_items_before(session: Session, keys: KeyFiles, moment: dt.datetime) -> bool:
    """Whether an epoch opened before `moment` still holds items but its key is not here."""
    for public_key in session.scalars(
        select(InboxEpoch.public_key).where(
            InboxEpoch.state == EPOCH_CLOSED,
            InboxEpoch.opened_at < moment,
            select(InboxItem.id).where(InboxItem.epoch_id == InboxEpoch.id).exists(),
        )
    ):
        if keys.read(bytes(public_key)) is None:
            return True
    return False


def _drop_or_report_keyless(session: Session, keys: KeyFiles, report: MixReport, *, drop: bool) -> None:
    for epoch_id, public_key in session.execute(
        select(InboxEpoch.id, InboxEpoch.public_key).where(InboxEpoch.state == EPOCH_CLOSED)
    ).all():
        if keys.read(bytes(public_key)) is not None:
            continue
        waiting = session.scalar(select(func.count()).where(InboxItem.epoch_id == epoch_id)) or 0
        if not waiting:
            continue
        if drop:
            session.execute(delete(InboxItem).where(InboxItem.epoch_id == epoch_id))
            report.dropped += waiting
            log.warning(
                "Dropped inbox epoch %s: its key is gone, so its %s ratings cannot be read.",
                epoch_id,
                waiting,
            )
        else:
            log.error(
                "Inbox epoch %s cannot be released: its key is not in %s. Its %s ratings wait for the key "
                "(after a restore from backup: pulse mix --drop-unreadable).",
                epoch_id,
                keys.folder,
                waiting,
            )


def _destroy_spent_keys(sessions: sessionmaker[Session], keys: KeyFiles) -> int:
    """Destroy the key of every closed epoch with no item left, then forget the epoch."""
    with sessions() as session:
        spent = session.execute(
            select(InboxEpoch.id, InboxEpoch.public_key).where(
                InboxEpoch.state == EPOCH_CLOSED,
                ~select(InboxItem.id).where(InboxItem.epoch_id == InboxEpoch.id).exists(),
            )
        ).all()
    for epoch_id, public_key in spent:
        keys.destroy(bytes(public_key))
        with sessions() as session:
            session.execute(delete(InboxEpoch).where(InboxEpoch.id == epoch_id))
            session.commit()
    return len(spent)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
