"""The optional second step after a rating: reason tags added to the team's week, once per rating."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pulse.models import ContributorReceipt, RequestReceipt, ShiftBand, Team
from pulse.models.receipts import KeyPurpose
from pulse.services.keys import REQUEST_KEY_DAYS, digest, ensure_keys
from pulse.services.ratings import (
    Clock,
    RatingNotFound,
    ReasonsAlreadyAdded,
    ReasonsRequest,
    ShiftClosed,
    UnknownJoinCode,
    check_reasons,
)
from pulse.services.shifts import band_window, week_start
from pulse.services.tallies import TallyDelta, apply_delta


def add_reasons(session: Session, request: ReasonsRequest, *, now: dt.datetime, clock: Clock) -> int:
    """Add reason tags to a rating this device made a moment ago, once. Returns how many were added.

    The request receipt does not name the team (no table ties a team to a day), so the join code comes
    again; the device's contributor receipt for that team and week proves it rated there. Raises
    RatingRefused when there is no such rating, its shift has closed, or reasons were already added.
    """
    team = session.scalar(select(Team).where(Team.join_code == request.join_code, Team.active.is_(True)))
    if team is None:
        raise UnknownJoinCode("This team link is not recognised. It may have been replaced.", "join_code")
    check_reasons(session, request.reason_ids)
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
