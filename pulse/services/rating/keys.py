"""Rotating HMAC keys and their purge: a key lives for its period only, and its digests die with it.

Every key is used peppered: HMAC(pepper, stored secret), the pepper coming from the application's secret key
(rating.sealing.derive_pepper). The database's credentials alone therefore cannot recompute a digest, even
over guessable inputs such as a team and a shift, and destroying the stored secret still destroys the key.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from pulse.models import (
    ContributorReceipt,
    RatingKey,
    RequestReceipt,
    ShiftBand,
    ShiftCounter,
    ShiftReceipt,
)
from pulse.models.receipts import KeyPurpose
from pulse.services.rating.inbox import oldest_pending_epoch
from pulse.services.shifts import day_closes_at
from pulse.services.sql import insert_for

# How long a retry with the same idempotency key is recognised: at least one full day after the first try.
REQUEST_KEY_DAYS = 2
# Extra time a key outlives its period, so a request in flight at the boundary still finds it.
SAFETY_MARGIN = dt.timedelta(hours=1)
# How long a KeyCache believes that an earlier day's key, looked up only, does not exist.
ABSENT_SECONDS = 60.0


def digest(key: bytes, *parts: str | int | dt.date) -> bytes:
    message = "|".join(p.isoformat() if isinstance(p, dt.date) else str(p) for p in parts)
    return hmac.digest(key, message.encode(), "sha256")  # HMAC-SHA256, one-shot (OpenSSL, no Python object)


@dataclass(frozen=True)
class Key:
    id: int
    secret: bytes


def ensure_keys(
    session: Session,
    wanted: Iterable[tuple[KeyPurpose, dt.date]],
    lookup_only: Iterable[tuple[KeyPurpose, dt.date]] = (),
    *,
    pepper: bytes,
) -> tuple[dict[tuple[KeyPurpose, dt.date], Key], bool]:
    """The keys for `wanted` (purpose, period) pairs, peppered, creating missing ones, plus any existing
    `lookup_only` keys; also whether a key was created.

    Missing keys are inserted in one sorted statement so concurrent first-requests-of-the-day cannot deadlock.
    """
    wanted = sorted(set(wanted))
    every = sorted(set(wanted) | set(lookup_only))
    found = _load_keys(session, every, pepper)
    missing = [w for w in wanted if w not in found]
    if not missing:
        return found, False
    stmt = insert_for(session, RatingKey).on_conflict_do_nothing(index_elements=["purpose", "period_start"])
    session.execute(
        stmt, [{"purpose": p, "period_start": d, "secret": secrets.token_bytes(32)} for p, d in missing]
    )
    return _load_keys(session, every, pepper), True


KeyId = tuple[KeyPurpose, dt.date]


@dataclass
class KeyCache:
    """Keys already read from the database, kept by one process so that a rating need not read them again.

    Safe because a key never changes: it is only ever deleted, by the purge, after its period has closed,
    when no new rating wants it. Only keys that existed before the call are kept (a key created in a
    transaction that is then rolled back must not be remembered). An earlier day's key that is only looked
    up and is missing is believed missing for ABSENT_SECONDS. If a write still finds a key gone (a clock set
    back, a database restored), the caller clears the cache and tries again.
    """

    pepper: bytes
    monotonic: Callable[[], float] = time.monotonic
    _keys: dict[KeyId, Key] = field(default_factory=dict)
    _absent_until: dict[KeyId, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(
        self, session: Session, wanted: Iterable[KeyId], lookup_only: Iterable[KeyId] = ()
    ) -> tuple[dict[KeyId, Key], bool]:
        """As ensure_keys, reading the database only for keys this process has not seen."""
        now = self.monotonic()
        found: dict[KeyId, Key] = {}
        need_wanted: list[KeyId] = []
        need_lookup: list[KeyId] = []
        with self._lock:
            for kid in wanted:
                if kid in self._keys:
                    found[kid] = self._keys[kid]
                else:
                    need_wanted.append(kid)
            for kid in lookup_only:
                if kid in self._keys:
                    found[kid] = self._keys[kid]
                elif self._absent_until.get(kid, 0.0) <= now:
                    need_lookup.append(kid)
        if not need_wanted and not need_lookup:
            return found, False
        loaded, created = ensure_keys(session, need_wanted, need_lookup, pepper=self.pepper)
        found.update(loaded)
        if not created:
            with self._lock:
                self._keys.update(loaded)
                for kid in need_lookup:
                    if kid not in loaded:
                        self._absent_until[kid] = now + ABSENT_SECONDS
        return found, created

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._absent_until.clear()


def _load_keys(
    session: Session, wanted: Sequence[tuple[KeyPurpose, dt.date]], pepper: bytes
) -> dict[tuple[KeyPurpose, dt.date], Key]:
    rows = session.execute(
        select(RatingKey.purpose, RatingKey.period_start, RatingKey.id, RatingKey.secret).where(
            tuple_(RatingKey.purpose, RatingKey.period_start).in_([(p.value, d) for p, d in wanted])
        )
    )
    return {(KeyPurpose(p), d): Key(i, hmac.digest(pepper, bytes(s), "sha256")) for p, d, i, s in rows}


def expired_key_ids(session: Session, now: dt.datetime, tz: ZoneInfo, grace: dt.timedelta) -> list[int]:
    """Keys whose period has closed: no rating can use them any more. A shift or week key is kept while the
    inbox still holds parts sealed before its period closed that the mixer will count contributors of."""
    bands = session.scalars(select(ShiftBand)).all()
    # The mixer needs a day's key until that day's organisation parts are released, and a week's until the
    # week's team parts are (it counts contributors by their digests under these keys).
    waiting = {
        KeyPurpose.SHIFT: oldest_pending_epoch(session, org_parts_only=True),
        KeyPurpose.WEEK: oldest_pending_epoch(session),
    }
    expired = []
    for key in session.execute(select(RatingKey.id, RatingKey.purpose, RatingKey.period_start)):
        period = key.period_start
        if key.purpose == KeyPurpose.SHIFT:
            closes = day_closes_at(bands, period, tz, grace)
        elif key.purpose == KeyPurpose.WEEK:
            closes = day_closes_at(bands, period + dt.timedelta(days=6), tz, grace)
        else:
            closes = dt.datetime.combine(period + dt.timedelta(days=REQUEST_KEY_DAYS), dt.time(), tzinfo=tz)
        pending = waiting.get(KeyPurpose(key.purpose))
        if pending is not None and pending < closes + SAFETY_MARGIN:
            continue
        if now >= closes + SAFETY_MARGIN:
            expired.append(key.id)
    return expired


def purge_expired(session: Session, now: dt.datetime, tz: ZoneInfo, grace: dt.timedelta) -> int:
    """Destroy expired keys and every digest made with them, and the counters of shifts closed for rating.
    Returns how many keys were destroyed."""
    session.execute(delete(ShiftCounter).where(ShiftCounter.closes_at < now))
    ids = expired_key_ids(session, now, tz, grace)
    if not ids:
        return 0
    for receipt in (ShiftReceipt, ShiftCounter, ContributorReceipt, RequestReceipt):
        session.execute(delete(receipt).where(receipt.key_id.in_(ids)))
    session.execute(delete(RatingKey).where(RatingKey.id.in_(ids)))
    return len(ids)
