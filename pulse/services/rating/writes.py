"""What one rating writes, and writing it through a session (SQLite, and kiosk taps everywhere).

A rating writes, in one transaction and nothing else:
- a request receipt (its retries get the first answer), sealed so only the same requester can read it back;
- a shift receipt (one rating per device, or per token, per shift), unless it is a kiosk tap;
- in open mode and on a kiosk, its team-shift's masked counter (the cap at the team's headcount);
- one sealed inbox item, for the mixer, which alone adds it to the tallies.
None of these names a team or a colour in the clear. PostgreSQL's phone ratings take the same steps in one
statement (rating.postgres); tests/api and tests/services hold the two paths to the same answers.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pulse.models import InboxItem, RequestReceipt, ShiftCounter, ShiftReceipt
from pulse.services.rating.inbox import Epoch, epoch_is_open
from pulse.services.shifts import Shift
from pulse.services.sql import insert_for


class Outcome(enum.Enum):
    COUNTED = "counted"
    ALREADY_RATED = "already rated"  # this device (or token) rated the shift under another request
    REPLAY = "replay"  # this very request was counted before
    STALE = "stale"  # the team or the bands were not as the process remembered: nothing was written
    STALE_EPOCH = "stale epoch"  # the epoch sealed to has closed: nothing was written
    SHIFT_FULL = "shift full"  # the team-shift's cap is reached: nothing was written
    COOLDOWN = "cooldown"  # a kiosk tapped too soon after the last: nothing was written


@dataclass(frozen=True)
class Counter:
    """A team-shift's masked counter and what this rating may do to it."""

    digest: bytes
    key_id: int
    closes_at: dt.datetime
    count_mask: int
    tap_mask: int
    cap: int
    tapped_at: int | None = None  # Unix seconds of a kiosk tap, checked against the cooldown
    cooldown: int = 0


@dataclass(frozen=True)
class RatingWrite:
    """Everything a rating writes, worked out (and sealed) before the first write."""

    team_id: int
    shift: Shift
    epoch_id: int
    epoch_key: bytes  # the public key the item is sealed to: the epoch must still have it
    item_id: bytes
    sealed_item: bytes
    request_digest: bytes
    request_key_id: int
    earlier_request_digests: list[bytes]
    sealed_receipt: bytes
    shift_digest: bytes | None  # None for a kiosk tap: a shared tablet cannot tell people apart
    shift_key_id: int
    counter: Counter | None  # None in verified mode: a token already caps each person


def write_in_session(session: Session, write: RatingWrite) -> Outcome:
    """The rating's writes one statement at a time, in the caller's transaction. The caller commits on
    COUNTED and rolls back otherwise (taking back whatever was written)."""
    if not epoch_is_open(session, Epoch(write.epoch_id, write.epoch_key)):
        return Outcome.STALE_EPOCH
    digests = [write.request_digest, *write.earlier_request_digests]
    if session.scalar(select(RequestReceipt.digest).where(RequestReceipt.digest.in_(digests))) is not None:
        return Outcome.REPLAY
    if not insert_digest(
        session, RequestReceipt, write.request_digest, write.request_key_id, sealed=write.sealed_receipt
    ):
        return Outcome.REPLAY  # a concurrent retry of this very request won the race
    if write.shift_digest is not None and not insert_digest(
        session, ShiftReceipt, write.shift_digest, write.shift_key_id
    ):
        return Outcome.ALREADY_RATED
    if write.counter is not None:
        refused = _take_from_counter(session, write.counter)
        if refused is not None:
            return refused
    session.execute(
        insert_for(session, InboxItem).values(
            id=write.item_id, epoch_id=write.epoch_id, sealed=write.sealed_item
        )
    )
    return Outcome.COUNTED


def _take_from_counter(session: Session, counter: Counter) -> Outcome | None:
    """Add one to the team-shift's counter if it is below the cap (and, for a kiosk, past its cooldown).
    One conditional statement, so concurrent ratings cannot both slip under the cap."""
    insert_digest(
        session,
        ShiftCounter,
        counter.digest,
        counter.key_id,
        closes_at=counter.closes_at,
        masked_count=counter.count_mask,
        masked_next_tap=counter.tap_mask,
    )
    conditions = [
        ShiftCounter.digest == counter.digest,
        ShiftCounter.masked_count - counter.count_mask < counter.cap,
    ]
    values: dict[str, object] = {"masked_count": ShiftCounter.masked_count + 1}
    if counter.tapped_at is not None:
        conditions.append(ShiftCounter.masked_next_tap - counter.tap_mask <= counter.tapped_at)
        values["masked_next_tap"] = counter.tap_mask + counter.tapped_at + counter.cooldown
    taken = session.execute(
        update(ShiftCounter).where(*conditions).values(**values).returning(ShiftCounter.digest)
    ).first()
    if taken is not None:
        return None
    count, _next_tap = read_counter(session, counter)
    if count >= counter.cap:
        return Outcome.SHIFT_FULL
    return Outcome.COOLDOWN


def read_counter(session: Session, counter: Counter) -> tuple[int, int]:
    """The counter's unmasked count and next allowed tap (Unix seconds)."""
    row = session.execute(
        select(ShiftCounter.masked_count, ShiftCounter.masked_next_tap).where(
            ShiftCounter.digest == counter.digest
        )
    ).one()
    return row.masked_count - counter.count_mask, row.masked_next_tap - counter.tap_mask


def insert_digest(session: Session, model: type, value: bytes, key_id: int, **extra: object) -> bool:
    """Insert a digest; False if it was already there (the unique key is the digest itself)."""
    stmt = (
        insert_for(session, model)
        .values(digest=value, key_id=key_id, **extra)
        .on_conflict_do_nothing(index_elements=["digest"])
        .returning(model.digest)  # type: ignore[attr-defined]
    )
    # RETURNING, not rowcount: ORM-enabled inserts do not report a reliable rowcount on every driver.
    return session.execute(stmt).first() is not None
