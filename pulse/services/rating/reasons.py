"""The optional second step after a rating: reason tags added to the team's week, once per rating."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from pulse.models import InboxItem, RatingMode, RequestReceipt, ShiftBand, Team
from pulse.services.organisation import rating_mode
from pulse.services.rating import verified
from pulse.services.rating.errors import (
    RatingNotFound,
    ReasonsAlreadyAdded,
    ShiftClosed,
    UnknownJoinCode,
)
from pulse.services.rating.inbox import StaleEpoch, epoch_is_open, new_item_id
from pulse.services.rating.lookup import check_reasons, find_receipt, request_keys
from pulse.services.rating.record import Clock, RatingPath, shift_is_open
from pulse.services.rating.sealing import SealedReasons, seal_item, seal_receipt
from pulse.services.tokens.spending import SlotToken, token_requester

# How often the reasons are sealed afresh when the inbox epoch turns out to have closed meanwhile.
EPOCH_ATTEMPTS = 3


@dataclass(frozen=True)
class ReasonsRequest:
    """Reasons for a rating already counted: the same join code, device secret (verified mode: the same
    token) and idempotency key."""

    join_code: str
    device_secret: str | None
    idempotency_key: str
    reason_ids: tuple[int, ...]
    token: SlotToken | None = None


def add_reasons(
    session: Session, request: ReasonsRequest, *, now: dt.datetime, clock: Clock, path: RatingPath
) -> int:
    """Add reason tags to a rating this device made a moment ago, once. Returns how many were added.

    The rating's request receipt, which only this device can open, says which team and shift it was for;
    the join code must name the same team. Raises RatingRefused when there is no such rating, its shift has
    closed, or reasons were already added. The caller commits.
    """
    team = session.scalar(select(Team).where(Team.join_code == request.join_code, Team.active.is_(True)))
    if team is None:
        raise UnknownJoinCode("This team link is not recognised. It may have been replaced.", "join_code")
    check_reasons(session, request.reason_ids)
    verified.check_mode(rating_mode(session) == RatingMode.VERIFIED, request.device_secret, request.token)
    if request.token is not None:
        verified.verify_slot_token(session, path.seeds, team.id, request.token)
        requester = token_requester(request.token)
    else:
        assert request.device_secret is not None
        requester = request.device_secret
    keys = request_keys(session, path.keys, now, clock.tz)
    found = find_receipt(session, keys, requester, request.idempotency_key)
    if found is None or found.payload.team_id != team.id:
        raise RatingNotFound(
            "We could not find the rating these reasons are for. Your rating itself is not affected.",
            "idempotency_key",
        )
    band = session.get(ShiftBand, found.payload.band_id)
    if band is None or not shift_is_open(band, found.payload.shift_date, now, clock):
        raise ShiftClosed("Reasons can only be added while the shift is open for rating.", "idempotency_key")
    if found.payload.reasons_added:
        raise ReasonsAlreadyAdded("Reasons have already been added to this rating. Thank you.", "reasons")
    resealed = seal_receipt(found.key, dataclasses.replace(found.payload, reasons_added=True))
    claimed = session.execute(
        update(RequestReceipt)
        .where(RequestReceipt.digest == found.digest, RequestReceipt.sealed == found.sealed)
        .values(sealed=resealed)
        .returning(RequestReceipt.digest)
    ).first()
    if claimed is None:  # a concurrent request added them first
        raise ReasonsAlreadyAdded("Reasons have already been added to this rating. Thank you.", "reasons")
    reasons = tuple(sorted(set(request.reason_ids)))
    item = SealedReasons(team.id, found.payload.shift_date, reasons)
    for _attempt in range(EPOCH_ATTEMPTS):
        epoch = path.epochs.get(session)
        if epoch_is_open(session, epoch):
            session.execute(
                insert(InboxItem).values(
                    id=new_item_id(), epoch_id=epoch.id, sealed=seal_item(epoch.public_key, item)
                )
            )
            return len(reasons)
        path.epochs.forget()
    raise StaleEpoch()
