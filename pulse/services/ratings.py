"""The write path: one rating becomes tally increments, refused if the device already rated this shift."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pulse.models import ContributorReceipt, ReasonTag, RequestReceipt, ShiftBand, ShiftReceipt, Team
from pulse.models.receipts import KeyPurpose
from pulse.services.keys import REQUEST_KEY_DAYS, Key, digest, ensure_keys, purge_expired
from pulse.services.shifts import Shift, band_window, open_shift, week_start
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


class ShiftClosed(RatingRefused):
    kind = "shift-closed"


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

    prepared = claim_request(
        session,
        request.device_secret,
        request.idempotency_key,
        request.age_seconds,
        now,
        clock,
        reasons_added=bool(request.reason_ids),
    )
    if isinstance(prepared, RatingReceipt):
        return prepared
    shift, keys = prepared
    week = week_start(shift.shift_date)
    shift_key = keys[(KeyPurpose.SHIFT, shift.shift_date)]
    if not insert_digest(
        session,
        ShiftReceipt,
        digest(shift_key.secret, request.device_secret, shift.shift_date, shift.band_id),
        shift_key.id,
    ):
        raise AlreadyRated(f"You've already rated this shift ({shift.band_name}). Thank you.")
    week_key = keys[(KeyPurpose.WEEK, week)]
    new_contributor = insert_digest(
        session,
        ContributorReceipt,
        digest(week_key.secret, request.device_secret, team.id, week),
        week_key.id,
    )

    return count_rating(session, team.id, shift, request.colour, request.reason_ids, new_contributor)


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
    *,
    reasons_added: bool = False,
) -> RatingReceipt | tuple[Shift, dict[tuple[KeyPurpose, dt.date], Key]]:
    """The shared first half of taking a rating: find its shift, make sure the keys exist, and claim the
    request receipt. Returns the first answer if this is a retry, else the shift and the keys to count with.

    `requester` is the device secret, or the kiosk's token on a shared tablet.
    """
    tapped_at = now - dt.timedelta(seconds=age_seconds)
    bands = session.scalars(select(ShiftBand).where(ShiftBand.active.is_(True))).all()
    shift = open_shift(bands, tapped_at, clock.tz, clock.grace)
    local_today = now.astimezone(clock.tz).date()
    request_days = [local_today - dt.timedelta(days=n) for n in range(REQUEST_KEY_DAYS)]
    wanted = [(KeyPurpose.REQUEST, local_today)]
    still_open = shift is not None and now < shift.ends_at + clock.grace
    if shift is not None and still_open:
        wanted += [(KeyPurpose.SHIFT, shift.shift_date), (KeyPurpose.WEEK, week_start(shift.shift_date))]
    # Earlier days' request keys are only looked up: a retry may arrive after midnight.
    keys, created = ensure_keys(session, wanted, [(KeyPurpose.REQUEST, d) for d in request_days[1:]])
    if created:  # a new period began: the natural moment to destroy the keys of closed ones
        purge_expired(session, now, clock.tz, clock.grace)

    replay = _find_replay(session, keys, request_days, requester, idempotency_key)
    if replay is not None:
        return replay
    if shift is None:
        raise NoOpenShift("No shift is open for rating right now.")
    if not still_open:
        raise ShiftClosed(
            f"This rating was saved while offline, but the {shift.band_name} shift of "
            f"{shift.shift_date:%-d %B} closed for rating before it could be sent.",
            "age_seconds",
        )

    request_key = keys[(KeyPurpose.REQUEST, local_today)]
    if not insert_digest(
        session,
        RequestReceipt,
        digest(request_key.secret, requester, idempotency_key),
        request_key.id,
        shift_date=shift.shift_date,
        band_id=shift.band_id,
        reasons_added=reasons_added,
    ):
        # A concurrent retry of this very request won the race; answer as it did.
        replay = _find_replay(session, keys, request_days, requester, idempotency_key)
        if replay is not None:
            return replay
    return shift, keys


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


def _find_replay(
    session: Session,
    keys: dict[tuple[KeyPurpose, dt.date], Key],
    days: list[dt.date],
    requester: str,
    idempotency_key: str,
) -> RatingReceipt | None:
    digests = [
        digest(keys[(KeyPurpose.REQUEST, day)].secret, requester, idempotency_key)
        for day in days
        if (KeyPurpose.REQUEST, day) in keys
    ]
    row = session.execute(
        select(RequestReceipt.shift_date, ShiftBand.id, ShiftBand.name)
        .join(ShiftBand, ShiftBand.id == RequestReceipt.band_id)
        .where(RequestReceipt.digest.in_(digests))
    ).first()
    return RatingReceipt(row[0], row[1], row[2]) if row else None


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
