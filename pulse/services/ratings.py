"""The write path: one rating becomes tally increments, refused if the device already rated this shift."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pulse.models import ContributorReceipt, ReasonTag, RequestReceipt, ShiftBand, ShiftReceipt, Team
from pulse.models.receipts import KeyPurpose
from pulse.services.keys import REQUEST_KEY_DAYS, Key, KeyCache, KeyId, digest, ensure_keys, purge_expired
from pulse.services.ratings_postgres import Band, Lookup, Outcome, PostgresRatings, RatingWrite
from pulse.services.shifts import BandLike, Shift, open_shift, week_start
from pulse.services.sql import insert_for
from pulse.services.tallies import TallyDelta, apply_delta

# How often a rating is worked out afresh when what the process remembered turns out to have changed.
LOOKUP_ATTEMPTS = 3


class RatingRefused(Exception):
    """A well-formed rating that cannot be counted. `field` names the input at fault, if one is."""

    status = 409
    kind = "rating-refused"

    def __init__(self, detail: str, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field


class UnknownJoinCode(RatingRefused):
    status = 404
    kind = "unknown-join-code"


class UnknownReason(RatingRefused):
    status = 422
    kind = "unknown-reason"


class AlreadyRated(RatingRefused):
    kind = "already-rated"


class NoOpenShift(RatingRefused):
    kind = "no-open-shift"


class ShiftClosed(RatingRefused):
    kind = "shift-closed"


class StaleKey(Exception):
    """A key taken from a KeyCache is no longer in the database. Nothing was counted: clear the cache and
    record the rating again."""


class RatingNotFound(RatingRefused):
    status = 404
    kind = "rating-not-found"


class ReasonsAlreadyAdded(RatingRefused):
    kind = "reasons-already-added"


@dataclass(frozen=True)
class RatingRequest:
    join_code: str
    colour: str
    device_secret: str
    idempotency_key: str
    reason_ids: tuple[int, ...] = ()
    # How long ago the tap was, for a rating queued on a phone while it was offline (0: just now).
    age_seconds: int = 0


@dataclass(frozen=True)
class ReasonsRequest:
    """Reasons for a rating already counted: the same join code, device secret and idempotency key."""

    join_code: str
    device_secret: str
    idempotency_key: str
    reason_ids: tuple[int, ...]


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


def record_rating(
    session: Session,
    request: RatingRequest,
    *,
    now: dt.datetime,
    clock: Clock,
    key_cache: KeyCache | None = None,
    postgres: PostgresRatings | None = None,
) -> RatingReceipt:
    """Count one rating, or recognise a retry of one already counted. Raises RatingRefused otherwise.

    Nothing here stores the device secret, the time, or anything else about the rater: only keyed digests
    (purged with their keys) and tally increments. The caller commits, or rolls back on RatingRefused.

    This is the hot path. Keys come from `key_cache` when given. With `postgres` (PostgreSQL), the team and
    bands come from what the process remembers and every write is one statement on the process's own
    connection, atomic on its own, so `session` (only used for keys, replays and reasons) may be in
    autocommit mode. Without it, the writes go through `session` one by one in its transaction (SQLite).
    Raises StaleKey if a cached key has been purged meanwhile.
    """
    for _attempt in range(LOOKUP_ATTEMPTS):
        code = request.join_code
        lookup = _lookup(session, code) if postgres is None else postgres.lookup(code)
        receipt = _record(session, request, lookup, now, clock, key_cache, postgres)
        if receipt is not None:
            return receipt
        assert postgres is not None  # only what a process remembered can be stale
        postgres.forget()
    raise RuntimeError(f"Teams or shift bands changed during each of {LOOKUP_ATTEMPTS} attempts to rate.")


def _record(
    session: Session,
    request: RatingRequest,
    lookup: Lookup,
    now: dt.datetime,
    clock: Clock,
    key_cache: KeyCache | None,
    postgres: PostgresRatings | None,
) -> RatingReceipt | None:
    """One attempt of record_rating. None: `lookup` was remembered and is out of date; nothing was written."""
    if lookup.team_id is None:
        raise UnknownJoinCode("This team link is not recognised. It may have been replaced.", "join_code")
    team_id = lookup.team_id
    check_reasons(session, request.reason_ids)
    plan = _plan(
        session,
        lookup.bands,
        request.device_secret,
        request.idempotency_key,
        request.age_seconds,
        now,
        clock,
        key_cache,
    )
    shift = plan.open_shift()
    if shift is None:
        if not lookup.fresh:  # refuse only on what the database says now
            return None
        return plan.refuse_unless_replay(session)
    week = week_start(shift.shift_date)
    shift_key = plan.keys[(KeyPurpose.SHIFT, shift.shift_date)]
    week_key = plan.keys[(KeyPurpose.WEEK, week)]
    write = RatingWrite(
        team_id=team_id,
        shift=shift,
        colour=request.colour,
        reason_ids=tuple(sorted(set(request.reason_ids))),
        request_digest=plan.request_digests[0],
        request_key_id=plan.request_key_id,
        earlier_request_digests=plan.request_digests[1:],
        shift_digest=digest(shift_key.secret, request.device_secret, shift.shift_date, shift.band_id),
        shift_key_id=shift_key.id,
        contributor_digest=digest(week_key.secret, request.device_secret, team_id, week),
        week_key_id=week_key.id,
    )
    try:
        if postgres is None:
            outcome = _write_step_by_step(session, write)
        else:
            outcome = postgres.write(write, request.join_code, lookup.bands_version)
    except IntegrityError as error:  # the only foreign keys a rating can miss are its keys'
        raise StaleKey("A key was purged while cached; clear the cache and try again.") from error
    if outcome == Outcome.STALE:
        return None
    if outcome == Outcome.COUNTED:
        return RatingReceipt(shift.shift_date, shift.band_id, shift.band_name)
    if outcome == Outcome.ALREADY_RATED:
        raise AlreadyRated(f"You've already rated this shift ({shift.band_name}). Thank you.")
    replay = _find_replay(session, plan.request_digests)
    if replay is None:  # its receipt was purged a moment ago: too late to be a retry of anything open
        raise AlreadyRated(f"You've already rated this shift ({shift.band_name}). Thank you.")
    return replay


def count_rating(
    session: Session,
    team_id: int,
    shift: Shift,
    colour: str,
    reason_ids: tuple[int, ...],
    new_contributor: bool,
) -> RatingReceipt:
    """Add one rating to the tallies, at the grains PRIVACY.md allows, and say what it was counted as."""
    delta = TallyDelta()
    delta.add_rating(
        team_id=team_id,
        week=week_start(shift.shift_date),
        shift_date=shift.shift_date,
        band_id=shift.band_id,
        colour=colour,
        reason_ids=sorted(set(reason_ids)),
        new_contributor=new_contributor,
    )
    apply_delta(session, delta)
    return RatingReceipt(shift.shift_date, shift.band_id, shift.band_name)


def claim_request(
    session: Session,
    requester: str,
    idempotency_key: str,
    age_seconds: int,
    now: dt.datetime,
    clock: Clock,
) -> RatingReceipt | tuple[Shift, dict[KeyId, Key]]:
    """The first half of taking a kiosk tap: find its shift, make sure the keys exist, and claim the request
    receipt. Returns the first answer if this is a retry, else the shift and the keys to count with.

    `requester` is the kiosk's token (record_rating does the same for a device secret in fewer queries).
    """
    bands = session.scalars(select(ShiftBand).where(ShiftBand.active.is_(True))).all()
    plan = _plan(session, bands, requester, idempotency_key, age_seconds, now, clock, None)
    replay = _find_replay(session, plan.request_digests)
    if replay is not None:
        return replay
    shift = plan.open_shift()
    if shift is None:
        plan.refuse()
    if not insert_digest(
        session,
        RequestReceipt,
        plan.request_digests[0],
        plan.request_key_id,
        shift_date=shift.shift_date,
        band_id=shift.band_id,
    ):
        # A concurrent retry of this very request won the race; answer as it did.
        replay = _find_replay(session, plan.request_digests)
        if replay is not None:
            return replay
    return shift, plan.keys


@dataclass(frozen=True)
class _Plan:
    """Where a rating made now (less its age) belongs, with the keys to make its digests."""

    shift: Shift | None
    still_open: bool
    keys: dict[KeyId, Key]
    request_digests: list[bytes]  # under today's request key first, then earlier days' that still exist
    request_key_id: int

    def open_shift(self) -> Shift | None:
        return self.shift if self.still_open else None

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
        replay = _find_replay(session, self.request_digests)
        if replay is None:
            self.refuse()
        return replay


def _plan(
    session: Session,
    bands: Sequence[BandLike],
    requester: str,
    idempotency_key: str,
    age_seconds: int,
    now: dt.datetime,
    clock: Clock,
    key_cache: KeyCache | None,
) -> _Plan:
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
    if key_cache is not None:
        keys, created = key_cache.get(session, wanted, earlier)
    else:
        keys, created = ensure_keys(session, wanted, earlier)
    if created:  # a new period began: the natural moment to destroy the keys of closed ones
        purge_expired(session, now, clock.tz, clock.grace)
    digests = [
        digest(keys[(KeyPurpose.REQUEST, day)].secret, requester, idempotency_key)
        for day in request_days
        if (KeyPurpose.REQUEST, day) in keys
    ]
    return _Plan(shift, still_open, keys, digests, keys[(KeyPurpose.REQUEST, local_today)].id)


_team = Team.__table__
_band = ShiftBand.__table__
_request = RequestReceipt.__table__

# One query for the team behind a join code and the active shift bands (one row per band).
_TEAM_AND_BANDS = select(
    select(_team.c.id)
    .where(_team.c.join_code == bindparam("join_code"), _team.c.active.is_(True))
    .scalar_subquery()
    .label("team_id"),
    _band.c.id,
    _band.c.name,
    _band.c.start_time,
    _band.c.end_time,
).where(_band.c.active.is_(True))
_TEAM_ID = select(_team.c.id).where(_team.c.join_code == bindparam("join_code"), _team.c.active.is_(True))
_REPLAY = (
    select(_request.c.shift_date, _band.c.id, _band.c.name)
    .join(_band, _band.c.id == _request.c.band_id)
    .where(_request.c.digest.in_(bindparam("digests", expanding=True)))
)


def _lookup(session: Session, join_code: str) -> Lookup:
    """The team behind a join code and the active bands, through the session (SQLite)."""
    params = {"join_code": join_code}
    rows = session.connection().execute(_TEAM_AND_BANDS, params).all()
    if not rows:  # no band is active: the team alone still decides between 404 and "no shift open"
        return Lookup(session.scalar(_TEAM_ID, params), (), "", fresh=True)
    return Lookup(rows[0][0], tuple(Band(r[1], r[2], r[3], r[4]) for r in rows), "", fresh=True)


def _find_replay(session: Session, request_digests: list[bytes]) -> RatingReceipt | None:
    if not request_digests:
        return None
    row = session.execute(_REPLAY, {"digests": request_digests}).first()
    return RatingReceipt(row[0], row[1], row[2]) if row else None


def _write_step_by_step(session: Session, write: RatingWrite) -> Outcome:
    """The rating's writes one statement at a time, in the caller's transaction (SQLite)."""
    if _find_replay(session, [write.request_digest, *write.earlier_request_digests]) is not None:
        return Outcome.REPLAY
    shift = write.shift
    if not insert_digest(
        session,
        RequestReceipt,
        write.request_digest,
        write.request_key_id,
        shift_date=shift.shift_date,
        band_id=shift.band_id,
        reasons_added=bool(write.reason_ids),
    ):
        return Outcome.REPLAY  # a concurrent retry of this very request won the race
    if not insert_digest(session, ShiftReceipt, write.shift_digest, write.shift_key_id):
        return Outcome.ALREADY_RATED  # the caller rolls back, taking the request receipt with it
    new_contributor = insert_digest(session, ContributorReceipt, write.contributor_digest, write.week_key_id)
    count_rating(session, write.team_id, shift, write.colour, write.reason_ids, new_contributor)
    return Outcome.COUNTED


def check_reasons(session: Session, reason_ids: tuple[int, ...]) -> None:
    """Refuse, naming them, reason tags that are unknown or retired."""
    if not reason_ids:
        return
    known = set(
        session.scalars(select(ReasonTag.id).where(ReasonTag.id.in_(reason_ids), ReasonTag.active.is_(True)))
    )
    unknown = sorted(set(reason_ids) - known)
    if unknown:
        raise UnknownReason(f"Unknown or retired reason: {', '.join(map(str, unknown))}.", "reasons")


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
