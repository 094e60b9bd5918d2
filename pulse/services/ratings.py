"""The write path: one rating becomes tally increments, refused if the device already rated this shift."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import ContributorReceipt, ReasonTag, RequestReceipt, ShiftBand, ShiftReceipt, Team
from pulse.models.receipts import KeyPurpose
from pulse.services.keys import REQUEST_KEY_DAYS, Key, digest, ensure_keys, purge_expired
from pulse.services.shifts import open_shift, week_start
from pulse.services.sql import insert_for
from pulse.services.tallies import TallyDelta, apply_delta


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


@dataclass(frozen=True)
class RatingRequest:
    join_code: str
    colour: str
    device_secret: str
    idempotency_key: str
    reason_ids: tuple[int, ...] = ()


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
    session: Session, request: RatingRequest, *, now: dt.datetime, clock: Clock
) -> RatingReceipt:
    """Count one rating, or recognise a retry of one already counted. Raises RatingRefused otherwise.

    Nothing here stores the device secret, the time, or anything else about the rater: only keyed digests
    (purged with their keys) and tally increments. The caller commits, or rolls back on RatingRefused.
    """
    team = session.scalar(select(Team).where(Team.join_code == request.join_code, Team.active.is_(True)))
    if team is None:
        raise UnknownJoinCode("This team link is not recognised. It may have been replaced.", "join_code")
    _check_reasons(session, request.reason_ids)

    bands = session.scalars(select(ShiftBand).where(ShiftBand.active.is_(True))).all()
    shift = open_shift(bands, now, clock.tz, clock.grace)
    local_today = now.astimezone(clock.tz).date()
    request_days = [local_today - dt.timedelta(days=n) for n in range(REQUEST_KEY_DAYS)]
    wanted = [(KeyPurpose.REQUEST, local_today)]
    if shift is not None:
        wanted += [(KeyPurpose.SHIFT, shift.shift_date), (KeyPurpose.WEEK, week_start(shift.shift_date))]
    # Earlier days' request keys are only looked up: a retry may arrive after midnight.
    keys, created = ensure_keys(session, wanted, [(KeyPurpose.REQUEST, d) for d in request_days[1:]])
    if created:  # a new period began: the natural moment to destroy the keys of closed ones
        purge_expired(session, now, clock.tz, clock.grace)

    replay = _find_replay(session, keys, request_days, request)
    if replay is not None:
        return replay
    if shift is None:
        raise NoOpenShift("No shift is open for rating right now.")
    week = week_start(shift.shift_date)

    request_key = keys[(KeyPurpose.REQUEST, local_today)]
    if not _insert_receipt(
        session,
        RequestReceipt,
        digest(request_key.secret, request.device_secret, request.idempotency_key),
        request_key.id,
        shift_date=shift.shift_date,
        band_id=shift.band_id,
    ):
        # A concurrent retry of this very request won the race; answer as it did.
        replay = _find_replay(session, keys, request_days, request)
        if replay is not None:
            return replay
    shift_key = keys[(KeyPurpose.SHIFT, shift.shift_date)]
    if not _insert_receipt(
        session,
        ShiftReceipt,
        digest(shift_key.secret, request.device_secret, shift.shift_date, shift.band_id),
        shift_key.id,
    ):
        raise AlreadyRated(f"You've already rated this shift ({shift.band_name}). Thank you.")
    week_key = keys[(KeyPurpose.WEEK, week)]
    new_contributor = _insert_receipt(
        session,
        ContributorReceipt,
        digest(week_key.secret, request.device_secret, team.id, week),
        week_key.id,
    )

    delta = TallyDelta()
    delta.add_rating(
        team_id=team.id,
        week=week,
        shift_date=shift.shift_date,
        band_id=shift.band_id,
        colour=request.colour,
        reason_ids=sorted(set(request.reason_ids)),
        new_contributor=new_contributor,
    )
    apply_delta(session, delta)
    return RatingReceipt(shift.shift_date, shift.band_id, shift.band_name)


def _check_reasons(session: Session, reason_ids: tuple[int, ...]) -> None:
    if not reason_ids:
        return
    known = set(
        session.scalars(select(ReasonTag.id).where(ReasonTag.id.in_(reason_ids), ReasonTag.active.is_(True)))
    )
    unknown = sorted(set(reason_ids) - known)
    if unknown:
        raise UnknownReason(f"Unknown or retired reason: {', '.join(map(str, unknown))}.", "reasons")


def _find_replay(
    session: Session, keys: dict[tuple[KeyPurpose, dt.date], Key], days: list[dt.date], request: RatingRequest
) -> RatingReceipt | None:
    digests = [
        digest(keys[(KeyPurpose.REQUEST, day)].secret, request.device_secret, request.idempotency_key)
        for day in days
        if (KeyPurpose.REQUEST, day) in keys
    ]
    row = session.execute(
        select(RequestReceipt.shift_date, ShiftBand.id, ShiftBand.name)
        .join(ShiftBand, ShiftBand.id == RequestReceipt.band_id)
        .where(RequestReceipt.digest.in_(digests))
    ).first()
    return RatingReceipt(row[0], row[1], row[2]) if row else None


def _insert_receipt(session: Session, model: type, value: bytes, key_id: int, **extra: object) -> bool:
    """Insert a digest; False if it was already there (the unique key is the digest itself)."""
    stmt = (
        insert_for(session, model)
        .values(digest=value, key_id=key_id, **extra)
        .on_conflict_do_nothing(index_elements=["digest"])
        .returning(model.digest)  # type: ignore[attr-defined]
    )
    # RETURNING, not rowcount: ORM-enabled inserts do not report a reliable rowcount on every driver.
    return session.execute(stmt).first() is not None
