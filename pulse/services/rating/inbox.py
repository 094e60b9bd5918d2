"""The writers' side of the sealed inbox: which epoch to seal a rating to, and what is still waiting.

Writers only ever know an epoch's public key. The mixer (rating.mixer) opens epochs, closes them and mixes
them. A writer seals to the newest open epoch it knows of and commits its item only if that epoch is still
open, checked under a share lock on the epoch's row in the same statement, so that no item can be committed
to an epoch after the mixer has closed it (the mixer's close waits for those locks).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pulse.models import InboxEpoch, InboxItem, ReleasedWeek
from pulse.models.inbox import EPOCH_OPEN

ITEM_ID_BYTES = 16


class NoOpenEpoch(Exception):
    """No epoch is open: the mixer has never run against this database. Nothing was counted."""


class StaleEpoch(Exception):
    """The epoch a writer sealed to was closed meanwhile. Nothing was counted: seal to the new one."""


@dataclass(frozen=True)
class Epoch:
    id: int
    public_key: bytes


def select_newest_open_epoch() -> Select[int, bytes, dt.datetime]:
    """The newest open epoch's id, public key and opening time: the epoch writers seal to."""
    return (
        select(InboxEpoch.id, InboxEpoch.public_key, InboxEpoch.opened_at)
        .where(InboxEpoch.state == EPOCH_OPEN)
        .order_by(InboxEpoch.id.desc())
        .limit(1)
    )


def newest_open_epoch(session: Session) -> Epoch:
    row = session.execute(select_newest_open_epoch()).first()
    if row is None:
        raise NoOpenEpoch(
            "No inbox epoch is open: start the mixer (`pulse maintain`, which `pulse serve` and `pulse demo` "
            "run for you)."
        )
    return Epoch(row.id, bytes(row.public_key))


class EpochCache:
    """The epoch one process seals to, read once and kept until a write finds it closed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epoch: Epoch | None = None

    def get(self, session: Session) -> Epoch:
        with self._lock:
            epoch = self._epoch
        if epoch is None:
            epoch = newest_open_epoch(session)
            with self._lock:
                self._epoch = epoch
        return epoch

    def forget(self) -> None:
        with self._lock:
            self._epoch = None


def new_item_id() -> bytes:
    """A random primary key: items carry no arrival order in their keys."""
    return secrets.token_bytes(ITEM_ID_BYTES)


def epoch_is_open(session: Session, epoch: Epoch) -> bool:
    """Whether `epoch` is still open, holding a share lock on its row until the transaction ends (on
    PostgreSQL; SQLite's writers already hold the database's write lock). The public key is checked too: an
    item sealed to one key must never be filed under another epoch that happens to have the same id."""
    state = session.scalar(
        select(InboxEpoch.state)
        .where(InboxEpoch.id == epoch.id, InboxEpoch.public_key == epoch.public_key)
        .with_for_update(read=True)
    )
    return state == EPOCH_OPEN


def oldest_pending_epoch(session: Session, *, org_parts_only: bool = False) -> dt.datetime | None:
    """When the oldest epoch still holding items was opened (items whose organisation part waits, with
    `org_parts_only`); None when nothing waits. Whatever was acknowledged before that moment is released."""
    items = select(InboxItem.id).where(InboxItem.epoch_id == InboxEpoch.id)
    if org_parts_only:
        items = items.where(InboxItem.org_applied.is_(False))
    opened = session.scalar(select(func.min(InboxEpoch.opened_at)).where(items.exists()))
    if opened is not None and opened.tzinfo is None:  # SQLite gives naive datetimes back
        opened = opened.replace(tzinfo=dt.UTC)
    return opened


def released_through(session: Session) -> dt.date | None:
    """The latest closed week the mixer has released wholly into the tallies."""
    return session.scalar(select(func.max(ReleasedWeek.week_start)))


def mixer_state(session: Session, now: dt.datetime, mix_minutes: int) -> str:
    """ "ok"; "behind" when the open epoch has held ratings for over three times PULSE_MIX_MINUTES without
    being closed (is `pulse maintain` running?); "never ran" when no epoch was ever opened (ratings cannot be
    taken)."""
    epoch = session.execute(select_newest_open_epoch()).first()
    if epoch is None:
        return "never ran"
    opened = epoch.opened_at if epoch.opened_at.tzinfo else epoch.opened_at.replace(tzinfo=dt.UTC)
    waiting = session.scalar(select(InboxItem.id).where(InboxItem.epoch_id == epoch.id).limit(1))
    if waiting is not None and now - opened > dt.timedelta(minutes=3 * mix_minutes + 1):
        return "behind"
    return "ok"
