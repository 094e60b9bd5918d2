"""The write path: one rating becomes one sealed inbox item, refused if the device already rated this shift.

Nothing here stores the device secret, the time, the team or the colour in the clear: only keyed digests
(purged with their keys), a request receipt sealed to the requester, a masked counter, and the sealed item
that the mixer (rating.mixer) later adds to the tallies in a batch (docs/anonymity.md A1-A3, A10-A12).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pulse.models import ShiftBand
from pulse.models.receipts import KeyPurpose
from pulse.services.rating import verified
from pulse.services.rating.errors import (
    AlreadyRated,
    NoOpenShift,
    RatingRefused,
    ShiftClosed,
    ShiftFull,
    StaleKey,
    TeamNotReady,
    UnknownJoinCode,
)
from pulse.services.rating.inbox import EpochCache, StaleEpoch, new_item_id
from pulse.services.rating.keys import REQUEST_KEY_DAYS, Key, KeyCache, KeyId, digest, purge_expired
from pulse.services.rating.lookup import FoundReceipt, check_reasons, find_receipt, lookup_team
from pulse.services.rating.postgres import Lookup, PostgresRatings
from pulse.services.rating.sealing import (
    ReceiptPayload,
    SealedRating,
    counter_key,
    receipt_key,
    seal_item,
    seal_receipt,
)
from pulse.services.rating.writes import Counter, Outcome, RatingWrite, write_in_session
from pulse.services.shifts import BandLike, Shift, band_window, open_shift, week_start
from pulse.services.tokens.keys import SeedCache
from pulse.services.tokens.spending import TokenProof

# How often a rating is worked out afresh when what the process remembered turns out to have changed.
LOOKUP_ATTEMPTS = 3


@dataclass(frozen=True)
class RatingRequest:
    """A rating: with a device secret (open mode) or with tokens (verified mode)."""

    join_code: str
    colour: str
    device_secret: str | None
    idempotency_key: str
    reason_ids: tuple[int, ...] = ()
    # How long ago the tap was, for a rating queued on a phone while it was offline (0: just now).
    age_seconds: int = 0
    tokens: TokenProof | None = None

    @property
    def requester(self) -> str:
        """Whose request receipts these are: the device secret, or the token's nonce."""
        if self.tokens is not None:
            return self.tokens.requester
        assert self.device_secret is not None
        return self.device_secret


@dataclass(frozen=True)
class RatingReceipt:
    """What the rater is told. A retry gets an equal receipt."""

    shift_date: dt.date
    band_id: int
    band_name: str


@dataclass(frozen=True)
class Clock:
    tz: ZoneInfo
    grace: dt.timedelta


@dataclass(frozen=True)
class RatingPath:
    """What one process keeps for the rating path: the keys and epoch it has read, and on PostgreSQL its
    own connection with the teams and bands it remembers."""

    keys: KeyCache
    epochs: EpochCache
    postgres: PostgresRatings | None = None
    seeds: SeedCache | None = None  # the token seeds, for verified ratings


def record_rating(
    session: Session, request: RatingRequest, *, now: dt.datetime, clock: Clock, path: RatingPath
) -> RatingReceipt:
    """Count one rating, or recognise a retry of one already counted. Raises RatingRefused otherwise.

    The caller commits, or rolls back on RatingRefused. With `path.postgres`, the team and bands come from
    what the process remembers and every write is one statement on the process's own connection, atomic on
    its own, so `session` (used for keys and replays only) may be in autocommit mode; without it the writes
    go through `session` in its transaction (SQLite). Raises StaleKey if a cached key has been purged.
    """
    postgres = path.postgres
    for _attempt in range(LOOKUP_ATTEMPTS):
        code = request.join_code
        lookup = lookup_team(session, code) if postgres is None else postgres.lookup(code)
        try:
            receipt = _record(session, request, lookup, now, clock, path)
        except StaleEpoch:
            session.rollback()
            path.epochs.forget()
            continue
        if receipt is not None:
            return receipt
        assert postgres is not None  # only what a process remembered can be stale
        postgres.forget()
    raise RuntimeError(f"Teams, bands or the inbox epoch changed during each of {LOOKUP_ATTEMPTS} attempts.")


def _record(
    session: Session,
    request: RatingRequest,
    lookup: Lookup,
    now: dt.datetime,
    clock: Clock,
    path: RatingPath,
) -> RatingReceipt | None:
    """One attempt of record_rating. None: `lookup` was remembered and is out of date; nothing was written."""
    if lookup.team_id is None:
        raise UnknownJoinCode("This team link is not recognised. It may have been replaced.", "join_code")
    team_id = lookup.team_id
    check_reasons(session, request.reason_ids)
    proof = request.tokens
    try:
        verified.check_mode(lookup.verified, request.device_secret, proof)
    except RatingRefused:
        if not lookup.fresh:  # refuse only on what the database says now
            return None
        raise
    requester = request.requester
    plan = plan_rating(
        session, lookup.bands, requester, request.idempotency_key, request.age_seconds, now, clock, path.keys
    )
    shift = plan.open_shift()
    if proof is not None and not verified.is_open_slot(proof.token, shift):
        if not lookup.fresh:
            return None
        replay = plan.find_replay(session)  # a retry of a rating counted while its slot was open
        if replay is not None:
            return replay
        verified.refuse_slot(proof.token, shift, lookup.bands, now, clock.tz, clock.grace)
        plan.refuse()
    if shift is None:
        if not lookup.fresh:  # refuse only on what the database says now
            return None
        return plan.refuse_unless_replay(session)
    if proof is None and lookup.headcount < 1:
        if not lookup.fresh:
            return None
        raise TeamNotReady(
            "This team's size has not been set yet, so Pulse cannot take its ratings. Please ask your "
            "manager to set it in Pulse's admin area."
        )
    week = week_start(shift.shift_date)
    shift_key = plan.keys[(KeyPurpose.SHIFT, shift.shift_date)]
    week_key = plan.keys[(KeyPurpose.WEEK, week)]
    reasons = tuple(sorted(set(request.reason_ids)))
    if proof is None:
        digests = verified.RatingDigests(
            contributor=digest(week_key.secret, requester, team_id, week),
            day=digest(shift_key.secret, requester, "day", shift.shift_date),
            org_week=digest(week_key.secret, requester, "organisation", week),
            spent=digest(shift_key.secret, requester, shift.shift_date, shift.band_id),
        )
    else:
        verified.verify_tokens(session, path.seeds, team_id, proof)
        digests = verified.token_digests(shift_key, week_key, proof)
    item = SealedRating(
        team_id=team_id,
        shift_date=shift.shift_date,
        band_id=shift.band_id,
        colour=request.colour,
        reason_ids=reasons,
        contributor_digest=digests.contributor,
        day_digest=digests.day,
        org_week_digest=digests.org_week,
    )
    write = plan.write(
        session,
        path,
        team_id=team_id,
        shift=shift,
        item=item,
        receipt=ReceiptPayload(team_id, shift.shift_date, shift.band_id, bool(reasons)),
        shift_digest=digests.spent,
        # Verified: no cap at the headcount; each person's token already allows one rating per shift.
        counter=None if proof is not None else plan.counter(team_id, shift, cap=lookup.headcount),
    )
    try:
        if path.postgres is None:
            outcome = write_in_session(session, write)
        else:
            outcome = path.postgres.write(write, request.join_code, lookup)
    except IntegrityError as error:  # the only foreign keys a rating can miss are its keys'
        raise StaleKey("A key was purged while cached; clear the cache and try again.") from error
    return plan.answer(session, outcome, shift)


@dataclass(frozen=True)
class RatingPlan:
    """Where a rating made now (less its age) belongs, with the keys to make its digests."""

    shift: Shift | None
    still_open: bool
    keys: dict[KeyId, Key]
    request_keys: list[Key]  # today's request key first, then earlier days' that still exist
    requester: str
    idempotency_key: str
    clock: Clock

    def open_shift(self) -> Shift | None:
        return self.shift if self.still_open else None

    @property
    def request_digests(self) -> list[bytes]:
        return [digest(key.secret, self.requester, self.idempotency_key) for key in self.request_keys]

    def refuse(self) -> NoReturn:
        if self.shift is None:
            raise NoOpenShift("No shift is open for rating right now.")
        raise ShiftClosed(
            f"This rating was saved while offline, but the {self.shift.band_name} shift of "
            f"{self.shift.shift_date:%-d %B} closed for rating before it could be sent.",
            "age_seconds",
        )

    def refuse_unless_replay(self, session: Session) -> RatingReceipt:
        """A rating with no open shift may still be a retry of one counted while it was open."""
        replay = self.find_replay(session)
        if replay is None:
            self.refuse()
        return replay

    def find_replay(self, session: Session) -> RatingReceipt | None:
        """The first answer to this very request, if it was counted."""
        found = self.find_receipt(session)
        if found is None:
            return None
        payload = found.payload
        band = session.get(ShiftBand, payload.band_id)
        return RatingReceipt(payload.shift_date, payload.band_id, band.name if band else "")

    def find_receipt(self, session: Session) -> FoundReceipt | None:
        return find_receipt(session, self.request_keys, self.requester, self.idempotency_key)

    def counter(
        self, team_id: int, shift: Shift, *, cap: int, tapped_at: int | None = None, cooldown: int = 0
    ) -> Counter:
        """The team-shift's counter, capped at `cap` (the team's headcount)."""
        shift_key = self.keys[(KeyPurpose.SHIFT, shift.shift_date)]
        where = counter_key(shift_key.secret, team_id, shift.shift_date, shift.band_id)
        return Counter(
            digest=where.digest,
            key_id=shift_key.id,
            closes_at=shift.ends_at + self.clock.grace,
            count_mask=where.count_mask,
            tap_mask=where.tap_mask,
            cap=cap,
            tapped_at=tapped_at,
            cooldown=cooldown,
        )

    def write(
        self,
        session: Session,
        path: RatingPath,
        *,
        team_id: int,
        shift: Shift,
        item: SealedRating,
        receipt: ReceiptPayload,
        shift_digest: bytes | None,
        counter: Counter | None,
    ) -> RatingWrite:
        """Seal the item to the current epoch and the receipt to the requester: the rating, ready to write."""
        epoch = path.epochs.get(session)
        today_key = self.request_keys[0]
        digests = self.request_digests
        return RatingWrite(
            team_id=team_id,
            shift=shift,
            epoch_id=epoch.id,
            epoch_key=epoch.public_key,
            item_id=new_item_id(),
            sealed_item=seal_item(epoch.public_key, item),
            request_digest=digests[0],
            request_key_id=today_key.id,
            earlier_request_digests=digests[1:],
            sealed_receipt=seal_receipt(
                receipt_key(today_key.secret, self.requester, self.idempotency_key), receipt
            ),
            shift_digest=shift_digest,
            shift_key_id=self.keys[(KeyPurpose.SHIFT, shift.shift_date)].id,
            counter=counter,
        )

    def answer(self, session: Session, outcome: Outcome, shift: Shift) -> RatingReceipt | None:
        """What to tell the rater after the write; None when the lookup it relied on was out of date."""
        if outcome == Outcome.STALE:
            return None
        if outcome == Outcome.STALE_EPOCH:
            raise StaleEpoch()
        if outcome == Outcome.COUNTED:
            return RatingReceipt(shift.shift_date, shift.band_id, shift.band_name)
        if outcome == Outcome.ALREADY_RATED:
            raise AlreadyRated(f"You've already rated this shift ({shift.band_name}). Thank you.")
        if outcome == Outcome.SHIFT_FULL:
            raise ShiftFull(
                f"This team has as many ratings for the {shift.band_name} shift as it has staff, so Pulse "
                "cannot take more. If you think this is wrong, please tell your manager."
            )
        replay = self.find_replay(session)
        if replay is None:  # its receipt was purged a moment ago: too late to be a retry of anything open
            raise AlreadyRated(f"You've already rated this shift ({shift.band_name}). Thank you.")
        return replay


def plan_rating(
    session: Session,
    bands: Sequence[BandLike],
    requester: str,
    idempotency_key: str,
    age_seconds: int,
    now: dt.datetime,
    clock: Clock,
    key_cache: KeyCache,
) -> RatingPlan:
    """Find the shift a rating made now (less its age) belongs to, and the keys for its digests."""
    tapped_at = now - dt.timedelta(seconds=age_seconds)
    shift = open_shift(bands, tapped_at, clock.tz, clock.grace)
    local_today = now.astimezone(clock.tz).date()
    request_days = [local_today - dt.timedelta(days=n) for n in range(REQUEST_KEY_DAYS)]
    wanted = [(KeyPurpose.REQUEST, local_today)]
    still_open = shift is not None and now < shift.ends_at + clock.grace
    if shift is not None and still_open:
        wanted += [(KeyPurpose.SHIFT, shift.shift_date), (KeyPurpose.WEEK, week_start(shift.shift_date))]
    # Earlier days' request keys are only looked up: a retry may arrive after midnight.
    earlier = [(KeyPurpose.REQUEST, d) for d in request_days[1:]]
    keys, created = key_cache.get(session, wanted, earlier)
    if created:  # a new period began: the natural moment to destroy the keys of closed ones
        purge_expired(session, now, clock.tz, clock.grace)
    request_keys = [keys[(KeyPurpose.REQUEST, d)] for d in request_days if (KeyPurpose.REQUEST, d) in keys]
    return RatingPlan(shift, still_open, keys, request_keys, requester, idempotency_key, clock)


def shift_is_open(band: BandLike, shift_date: dt.date, now: dt.datetime, clock: Clock) -> bool:
    return now < band_window(band, shift_date, clock.tz)[1] + clock.grace
