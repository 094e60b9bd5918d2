"""Kiosk mode: one shared ward tablet per team, for staff without a phone to hand.

A tablet cannot tell people apart, so there is no device dedupe: each tap counts as one contributor
(PRIVACY.md section 1). Instead, taps are spaced by a cooldown and capped at the team's headcount per shift.
The count and the time of the next allowed tap live in a KioskReceipt under the shift's key, and die with it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pulse.models import KioskReceipt, Team
from pulse.models.receipts import KeyPurpose
from pulse.services.keys import digest
from pulse.services.ratings import (
    Clock,
    RatingReceipt,
    RatingRefused,
    claim_request,
    count_rating,
    insert_digest,
)

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


class KioskCapReached(RatingRefused):
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


def enable_kiosk(session: Session, team: Team) -> str:
    """Switch kiosk mode on for `team` (or give it a new token) and return the tablet's token."""
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
    session: Session, request: KioskRequest, *, now: dt.datetime, clock: Clock, cooldown: int
) -> KioskReceiptOut:
    """Count one tap on a team's shared tablet, or recognise a retry. Raises RatingRefused otherwise."""
    team = find_team_by_kiosk_token(session, request.kiosk_token)
    if team is None:
        raise UnknownKiosk("This tablet's link has been switched off. Ask your manager.", "kiosk_token")
    requester = f"kiosk:{request.kiosk_token}"
    prepared = claim_request(session, requester, request.idempotency_key, request.age_seconds, now, clock)
    if isinstance(prepared, RatingReceipt):
        # A retry of a counted tap: the tablet waits a full cooldown, never shorter than what is left.
        return KioskReceiptOut(prepared, cooldown)
    shift, keys = prepared
    shift_key = keys[(KeyPurpose.SHIFT, shift.shift_date)]
    kiosk_digest = digest(shift_key.secret, "kiosk", team.id, shift.shift_date, shift.band_id)
    tapped_at = int((now - dt.timedelta(seconds=request.age_seconds)).timestamp())
    insert_digest(session, KioskReceipt, kiosk_digest, shift_key.id, taps=0, next_tap_at=0)
    # One conditional increment: concurrent taps cannot both slip under the cap or through the cooldown.
    taken = session.execute(
        update(KioskReceipt)
        .where(
            KioskReceipt.digest == kiosk_digest,
            KioskReceipt.taps < team.headcount,
            KioskReceipt.next_tap_at <= tapped_at,
        )
        .values(taps=KioskReceipt.taps + 1, next_tap_at=tapped_at + cooldown)
        .returning(KioskReceipt.taps)
    ).first()
    if taken is None:
        row = session.execute(
            select(KioskReceipt.taps, KioskReceipt.next_tap_at).where(KioskReceipt.digest == kiosk_digest)
        ).one()
        if row.taps >= team.headcount:
            raise KioskCapReached(
                f"This tablet has taken {team.headcount} ratings for the {shift.band_name} shift, as many as "
                f"{team.name} has staff. If you have not rated yet, please use your own phone."
            )
        wait = max(1, row.next_tap_at - tapped_at)
        raise KioskCooldown(f"Please wait {wait} seconds before the next rating.", wait)

    # Each tap is one contributor: a tablet cannot tell people apart (PRIVACY.md section 1).
    counted = count_rating(session, team.id, shift, request.colour, (), new_contributor=True)
    return KioskReceiptOut(counted, cooldown)
