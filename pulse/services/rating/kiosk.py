"""Kiosk mode: one shared ward tablet per team, for staff without a phone to hand.

A tablet cannot tell people apart, so there is no device dedupe: each tap counts as one contributor
(docs/anonymity.md A6). Instead, taps are spaced by a cooldown and capped at the team's headcount per shift,
with the phones' ratings. The count and the time of the next allowed tap live, masked, in the team-shift's
counter (rating.writes), which is deleted when the shift closes for rating.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pulse.models import RatingMode, ShiftBand, Team
from pulse.services.organisation import rating_mode
from pulse.services.rating.errors import RatingRefused, ShiftFull, StaleKey
from pulse.services.rating.inbox import StaleEpoch
from pulse.services.rating.record import Clock, RatingPath, RatingReceipt, plan_rating
from pulse.services.rating.sealing import ReceiptPayload, SealedRating
from pulse.services.rating.writes import Outcome, read_counter, write_in_session

# 16 random bytes, 22 URL-safe characters: the tablet's address is as unguessable as a join code, and longer.
KIOSK_TOKEN_BYTES = 16

WEAKER_GUARANTEE = (
    "A shared tablet cannot tell people apart. Pulse counts each tap on it as one person, so one person "
    "could rate more than once. To limit that, the tablet waits between taps and takes no more ratings in a "
    "shift than the team has staff. Ratings stay anonymous: nothing about who tapped is kept, and the "
    "tablet's count for the shift is destroyed with the shift's key."
)


class UnknownKiosk(RatingRefused):
    status = 404
    kind = "unknown-kiosk"


class KioskCooldown(RatingRefused):
    kind = "kiosk-cooldown"

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after


class KioskVerified(RatingRefused):
    """The organisation rates verified: a shared tablet cannot take ratings."""

    status = 403
    kind = "kiosk-not-verified"


class KioskCapReached(ShiftFull):
    kind = "kiosk-cap-reached"


class KioskNotAllowed(ValueError):
    """The team cannot have a kiosk (yet); the message says why."""


@dataclass(frozen=True)
class KioskRequest:
    kiosk_token: str
    colour: str
    idempotency_key: str
    age_seconds: int = 0


@dataclass(frozen=True)
class KioskReceiptOut:
    rating: RatingReceipt
    next_tap_in: int  # seconds until the tablet takes another rating


VERIFIED_REFUSAL = (
    "Rating is verified in this organisation: each person rates with tokens on their own enrolled phone, "
    "once per shift. A shared tablet cannot tell people apart, so it cannot take verified ratings. Please "
    "rate on your own phone."
)


def enable_kiosk(session: Session, team: Team) -> str:
    """Switch kiosk mode on for `team` (or give it a new token) and return the tablet's token."""
    if rating_mode(session) == RatingMode.VERIFIED:
        raise KioskNotAllowed(
            f"{team.name} cannot have a shared tablet: rating is verified here, and a tablet cannot tell "
            "people apart (docs/anonymity.md A8). Staff rate on their own enrolled phones."
        )
    if not team.active:
        raise KioskNotAllowed(f"{team.name} is not active.")
    if team.headcount < 1:
        raise KioskNotAllowed(
            f"Set {team.name}'s headcount first: a kiosk takes at most that many ratings per shift."
        )
    team.kiosk_token = secrets.token_urlsafe(KIOSK_TOKEN_BYTES)
    session.flush()
    return team.kiosk_token


def disable_kiosk(session: Session, team: Team) -> None:
    team.kiosk_token = None
    session.flush()


def find_team_by_kiosk_token(session: Session, token: str) -> Team | None:
    return session.scalar(select(Team).where(Team.kiosk_token == token, Team.active.is_(True)))


def record_kiosk_rating(
    session: Session,
    request: KioskRequest,
    *,
    now: dt.datetime,
    clock: Clock,
    cooldown: int,
    path: RatingPath,
) -> KioskReceiptOut:
    """Count one tap on a team's shared tablet, or recognise a retry. Raises RatingRefused otherwise.

    The caller commits on success and rolls back on a refusal.
    """
    team = find_team_by_kiosk_token(session, request.kiosk_token)
    if team is None:
        raise UnknownKiosk("This tablet's link has been switched off. Ask your manager.", "kiosk_token")
    if rating_mode(session) == RatingMode.VERIFIED:
        raise KioskVerified(VERIFIED_REFUSAL)
    bands = session.scalars(select(ShiftBand).where(ShiftBand.active.is_(True))).all()
    requester = f"kiosk:{request.kiosk_token}"
    plan = plan_rating(
        session, bands, requester, request.idempotency_key, request.age_seconds, now, clock, path.keys
    )
    replay = plan.find_replay(session)
    if replay is not None:
        # A retry of a counted tap: the tablet waits a full cooldown, never shorter than what is left.
        return KioskReceiptOut(replay, cooldown)
    shift = plan.open_shift()
    if shift is None:
        plan.refuse()
    tapped_at = int((now - dt.timedelta(seconds=request.age_seconds)).timestamp())
    counter = plan.counter(team.id, shift, cap=team.headcount, tapped_at=tapped_at, cooldown=cooldown)
    # Each tap is one contributor: a tablet cannot tell people apart (docs/anonymity.md A6).
    item = SealedRating(team.id, shift.shift_date, shift.band_id, request.colour, tap=True)
    receipt = ReceiptPayload(team.id, shift.shift_date, shift.band_id)
    for _attempt in range(3):
        write = plan.write(
            session,
            path,
            team_id=team.id,
            shift=shift,
            item=item,
            receipt=receipt,
            shift_digest=None,
            counter=counter,
        )
        try:
            outcome = write_in_session(session, write)
        except IntegrityError as error:  # the only foreign keys a tap can miss are its keys'
            raise StaleKey("A key was purged while cached; clear the cache and try again.") from error
        if outcome != Outcome.STALE_EPOCH:
            break
        session.rollback()
        path.epochs.forget()
    else:
        raise StaleEpoch()
    if outcome == Outcome.COUNTED:
        return KioskReceiptOut(RatingReceipt(shift.shift_date, shift.band_id, shift.band_name), cooldown)
    if outcome == Outcome.REPLAY:
        replay = plan.find_replay(session)
        if replay is not None:
            return KioskReceiptOut(replay, cooldown)
    if outcome == Outcome.SHIFT_FULL:
        raise KioskCapReached(
            f"This tablet has taken {team.headcount} ratings for the {shift.band_name} shift, as many as "
            f"{team.name} has staff. If you have not rated yet, please use your own phone."
        )
    _count, next_tap = read_counter(session, counter)
    wait = max(1, next_tap - tapped_at)
    raise KioskCooldown(f"Please wait {wait} seconds before the next rating.", wait)
