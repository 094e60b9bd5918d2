"""The write path: one rating becomes tally increments, refused if the device already rated this shift."""

from __future__ import annotations

import datetime as dt
import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pulse.models import ContributorReceipt, ReasonTag, RequestReceipt, ShiftBand, ShiftReceipt, Team
from pulse.models.receipts import KeyPurpose
from pulse.models.tallies import ORG_SHIFT_SLOTS
from pulse.services import driver
from pulse.services.keys import REQUEST_KEY_DAYS, Key, KeyCache, KeyId, digest, ensure_keys, purge_expired
from pulse.services.shifts import BandLike, Shift, band_window, open_shift, week_start
from pulse.services.sql import insert_for
from pulse.services.tallies import COLOURS, TallyDelta, apply_delta


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


# Which slot of the organisation's shift tally a rating adds to: chance, not a secret; it means nothing.
_random = random.Random()  # noqa: S311


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
) -> RatingReceipt:
    """Count one rating, or recognise a retry of one already counted. Raises RatingRefused otherwise.

    Nothing here stores the device secret, the time, or anything else about the rater: only keyed digests
    (purged with their keys) and tally increments. The caller commits, or rolls back on RatingRefused.

    This is the hot path, so it reads the team and the shift bands in one query, takes keys from
    `key_cache` when given, and on PostgreSQL writes everything in one statement (atomic on its own, so the
    session may be in autocommit mode). Raises StaleKey if a cached key has been purged meanwhile.
    """
    team_id, bands = _team_and_bands(session, request.join_code)
    if team_id is None:
        raise UnknownJoinCode("This team link is not recognised. It may have been replaced.", "join_code")
    _check_reasons(session, request.reason_ids)
    plan = _plan(
        session,
        bands,
        request.device_secret,
        request.idempotency_key,
        request.age_seconds,
        now,
        clock,
        key_cache,
    )
    shift = plan.open_shift()
    if shift is None:
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
        if session.get_bind().dialect.name == "postgresql":
            outcome = _write_in_one_statement(session, write)
        else:
            outcome = _write_step_by_step(session, write)
    except IntegrityError as error:  # the only foreign keys a rating can miss are its keys'
        raise StaleKey("A key was purged while cached; clear the cache and try again.") from error
    if outcome == _Outcome.COUNTED:
        return RatingReceipt(shift.shift_date, shift.band_id, shift.band_name)
    if outcome == _Outcome.ALREADY_RATED:
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


@dataclass(slots=True)
class _Band:
    id: int
    name: str
    start_time: dt.time
    end_time: dt.time


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


# The same query for psycopg, sent by pulse.services.driver on PostgreSQL.
_TEAM_AND_BANDS_PSYCOPG = str(_TEAM_AND_BANDS.compile(dialect=psycopg_dialect()))


def _team_and_bands(session: Session, join_code: str) -> tuple[int | None, list[_Band]]:
    params = {"join_code": join_code}
    if session.get_bind().dialect.name == "postgresql":
        rows: Sequence[Sequence[Any]] = driver.fetch_all(session, _TEAM_AND_BANDS_PSYCOPG, params)
    else:
        rows = session.connection().execute(_TEAM_AND_BANDS, params).all()
    if not rows:  # no band is active: the team alone still decides between 404 and "no shift open"
        return session.scalar(_TEAM_ID, params), []
    return rows[0][0], [_Band(r[1], r[2], r[3], r[4]) for r in rows]


def _find_replay(session: Session, request_digests: list[bytes]) -> RatingReceipt | None:
    if not request_digests:
        return None
    row = session.execute(_REPLAY, {"digests": request_digests}).first()
    return RatingReceipt(row[0], row[1], row[2]) if row else None


class _Outcome(enum.Enum):
    COUNTED = "counted"
    ALREADY_RATED = "already rated"  # this device rated the shift under another request
    REPLAY = "replay"  # this very request was counted before


@dataclass(frozen=True)
class RatingWrite:
    """Everything a rating writes, worked out before the first write."""

    team_id: int
    shift: Shift
    colour: str
    reason_ids: tuple[int, ...]
    request_digest: bytes
    request_key_id: int
    earlier_request_digests: list[bytes]
    shift_digest: bytes
    shift_key_id: int
    contributor_digest: bytes
    week_key_id: int


def _write_step_by_step(session: Session, write: RatingWrite) -> _Outcome:
    """The rating's writes one statement at a time, in the caller's transaction (SQLite)."""
    if _find_replay(session, [write.request_digest, *write.earlier_request_digests]) is not None:
        return _Outcome.REPLAY
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
        return _Outcome.REPLAY  # a concurrent retry of this very request won the race
    if not insert_digest(session, ShiftReceipt, write.shift_digest, write.shift_key_id):
        return _Outcome.ALREADY_RATED  # the caller rolls back, taking the request receipt with it
    new_contributor = insert_digest(session, ContributorReceipt, write.contributor_digest, write.week_key_id)
    count_rating(session, write.team_id, shift, write.colour, write.reason_ids, new_contributor)
    return _Outcome.COUNTED


# The same writes as _write_step_by_step, as one PostgreSQL statement (psycopg's parameter style, sent by
# pulse.services.driver): one round trip, and atomic even in autocommit mode. Each step runs only if the one
# before it inserted its row: the request receipt (unless a retry; an earlier day's receipt counts too), then
# the shift receipt (unless this device rated the shift), then the contributor receipt and the same tally
# increments as tallies.apply_delta, except that the organisation's shift tally takes a random slot (see
# ORG_SHIFT_SLOTS). Its results say which steps happened. (PostgreSQL runs every data-modifying WITH part to
# completion, read or not.) tests/api and tests/services run on both databases and hold the two to the same
# answers.
_ONE_STATEMENT = """
WITH request AS (
    INSERT INTO request_receipt (digest, key_id, shift_date, band_id, reasons_added)
    SELECT %(request_digest)s, %(request_key_id)s, %(shift_date)s, %(band_id)s, %(reasons_added)s
    WHERE NOT EXISTS (
        SELECT 1 FROM request_receipt WHERE digest = ANY (CAST(%(earlier_request_digests)s AS bytea[]))
    )
    ON CONFLICT (digest) DO NOTHING
    RETURNING 1
), shift AS (
    INSERT INTO shift_receipt (digest, key_id)
    SELECT %(shift_digest)s, %(shift_key_id)s FROM request
    ON CONFLICT (digest) DO NOTHING
    RETURNING 1
), contributor AS (
    INSERT INTO contributor_receipt (digest, key_id)
    SELECT %(contributor_digest)s, %(week_key_id)s FROM shift
    ON CONFLICT (digest) DO NOTHING
    RETURNING 1
), team_week AS (
    INSERT INTO team_week_tally (team_id, week_start, red, amber, green, contributors)
    SELECT %(team_id)s, %(week_start)s, %(red)s, %(amber)s, %(green)s, (SELECT count(*) FROM contributor)
    FROM shift
    ON CONFLICT (team_id, week_start) DO UPDATE SET
        red = team_week_tally.red + excluded.red,
        amber = team_week_tally.amber + excluded.amber,
        green = team_week_tally.green + excluded.green,
        contributors = team_week_tally.contributors + excluded.contributors
    RETURNING 1
), reasons AS (
    INSERT INTO team_week_reason_tally (team_id, week_start, tag_id, ratings)
    SELECT %(team_id)s, %(week_start)s, tag_id, 1
    FROM shift, unnest(CAST(%(reason_ids)s AS integer[])) AS tag_id
    ON CONFLICT (team_id, week_start, tag_id) DO UPDATE SET ratings = team_week_reason_tally.ratings + 1
    RETURNING 1
), org_shift AS (
    INSERT INTO org_shift_tally (shift_date, band_id, slot, red, amber, green)
    SELECT %(shift_date)s, %(band_id)s, %(slot)s, %(red)s, %(amber)s, %(green)s FROM shift
    ON CONFLICT (shift_date, band_id, slot) DO UPDATE SET
        red = org_shift_tally.red + excluded.red,
        amber = org_shift_tally.amber + excluded.amber,
        green = org_shift_tally.green + excluded.green
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM request) AS requested,
    (SELECT count(*) FROM shift) AS counted
"""


def _write_in_one_statement(session: Session, write: RatingWrite) -> _Outcome:
    shift = write.shift
    [(requested, counted)] = driver.fetch_all(
        session,
        _ONE_STATEMENT,
        {
            "request_digest": write.request_digest,
            "request_key_id": write.request_key_id,
            "earlier_request_digests": write.earlier_request_digests,
            "shift_date": shift.shift_date,
            "band_id": shift.band_id,
            "reasons_added": bool(write.reason_ids),
            "shift_digest": write.shift_digest,
            "shift_key_id": write.shift_key_id,
            "contributor_digest": write.contributor_digest,
            "week_key_id": write.week_key_id,
            "team_id": write.team_id,
            "week_start": week_start(shift.shift_date),
            "reason_ids": list(write.reason_ids),
            "slot": _random.randrange(ORG_SHIFT_SLOTS),
            **{colour: int(colour == write.colour) for colour in COLOURS},
        },
    )
    if counted:
        return _Outcome.COUNTED
    if requested:
        # This device rated the shift under another request. Take this request's receipt back, as a rollback
        # would, so that a retry is refused again rather than answered as if it had been counted.
        session.execute(delete(RequestReceipt).where(RequestReceipt.digest == write.request_digest))
        return _Outcome.ALREADY_RATED
    return _Outcome.REPLAY


def add_reasons(session: Session, request: ReasonsRequest, *, now: dt.datetime, clock: Clock) -> int:
    """Add reason tags to a rating this device made a moment ago, once. Returns how many were added.

    The request receipt does not name the team (no table ties a team to a day), so the join code comes
    again; the device's contributor receipt for that team and week proves it rated there. Raises
    RatingRefused when there is no such rating, its shift has closed, or reasons were already added.
    """
    team = session.scalar(select(Team).where(Team.join_code == request.join_code, Team.active.is_(True)))
    if team is None:
        raise UnknownJoinCode("This team link is not recognised. It may have been replaced.", "join_code")
    _check_reasons(session, request.reason_ids)
    local_today = now.astimezone(clock.tz).date()
    request_days = [local_today - dt.timedelta(days=n) for n in range(REQUEST_KEY_DAYS)]
    keys, _ = ensure_keys(session, [], [(KeyPurpose.REQUEST, d) for d in request_days])
    digests = [
        digest(keys[(KeyPurpose.REQUEST, day)].secret, request.device_secret, request.idempotency_key)
        for day in request_days
        if (KeyPurpose.REQUEST, day) in keys
    ]
    found = session.execute(
        select(RequestReceipt.digest, RequestReceipt.shift_date, ShiftBand)
        .join(ShiftBand, ShiftBand.id == RequestReceipt.band_id)
        .where(RequestReceipt.digest.in_(digests))
    ).first()
    if found is None or not _rated_here(
        session, team.id, request.device_secret, week_start(found.shift_date)
    ):
        raise RatingNotFound(
            "We could not find the rating these reasons are for. Your rating itself is not affected.",
            "idempotency_key",
        )
    week = week_start(found.shift_date)
    if now >= band_window(found.ShiftBand, found.shift_date, clock.tz)[1] + clock.grace:
        raise ShiftClosed("Reasons can only be added while the shift is open for rating.", "idempotency_key")
    claimed = session.execute(
        update(RequestReceipt)
        .where(RequestReceipt.digest == found.digest, RequestReceipt.reasons_added.is_(False))
        .values(reasons_added=True)
        .returning(RequestReceipt.digest)
    ).first()
    if claimed is None:
        raise ReasonsAlreadyAdded("Reasons have already been added to this rating. Thank you.", "reasons")
    delta = TallyDelta()
    for tag_id in sorted(set(request.reason_ids)):
        delta.team_week_reasons[(team.id, week, tag_id)] = 1
    apply_delta(session, delta)
    return len(delta.team_week_reasons)


def _rated_here(session: Session, team_id: int, device_secret: str, week: dt.date) -> bool:
    """Whether this device has a contributor receipt for the team and week: it rated there."""
    keys, _ = ensure_keys(session, [], [(KeyPurpose.WEEK, week)])
    key = keys.get((KeyPurpose.WEEK, week))
    if key is None:
        return False
    return session.get(ContributorReceipt, digest(key.secret, device_secret, team_id, week)) is not None


def _check_reasons(session: Session, reason_ids: tuple[int, ...]) -> None:
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
