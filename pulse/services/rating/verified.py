"""The verified half of the rating path: which requests a team's mode takes, the token's slot, its checks,
and the digests a rating keeps of its tokens (docs/verified-rating.md, "Spending").

A verified team takes only ratings that present tokens: its slot's token, spent once, and the pseudonyms that
count distinct raters. An open team takes only device secrets. The rating is otherwise written exactly as an
open one (rating.writes), without the headcount counter: a token already caps each person at one rating per
shift, and there are no more people than the roster holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from pulse.services.rating.errors import (
    DeviceSecretNeeded,
    EnrolmentNeeded,
    ShiftClosed,
    TokenInvalid,
    TokensNotUsed,
    WrongSlot,
)
from pulse.services.rating.keys import Key
from pulse.services.shifts import BandLike, Shift
from pulse.services.tokens.keys import SeedCache, slot_closes_at
from pulse.services.tokens.spending import (
    SlotToken,
    TokenProof,
    check_token,
    invalid_fields,
    pseudonym_digest,
    spent_token_digest,
)

ENROL_URL = "/enrol"
ENROL = (
    "Rating for this team is verified: only the people on its staff list can rate, once per shift, from a "
    "phone enrolled with Pulse, and their ratings stay anonymous. Enrol this phone at /enrol, with the "
    "personal enrolment code your manager can give you or by signing in with your work account."
)
FIELD_NAMES = {
    "token": "rating token",
    "week_pseudonym": "weekly pseudonym",
    "day_pseudonym": "daily pseudonym",
    "orgweek_pseudonym": "organisation week pseudonym",
}


def check_mode(verified: bool, device_secret: str | None, tokens: object | None) -> None:
    """Refuse a request that the team's rating mode does not take."""
    if verified and tokens is None:
        raise EnrolmentNeeded(
            ENROL,
            "token",
            extra={"enrol_url": ENROL_URL},
            headers={"WWW-Authenticate": 'Bearer realm="pulse", error="enrolment-needed"'},
        )
    if not verified and tokens is not None:
        raise TokensNotUsed(
            "Rating for this team is open: rate with its link alone, without tokens.", "token"
        )
    if not verified and device_secret is None:
        raise DeviceSecretNeeded("Missing data for required field.", "device_secret")


def is_open_slot(token: SlotToken, shift: Shift | None) -> bool:
    return shift is not None and (token.shift_date, token.band_id) == (shift.shift_date, shift.band_id)


def refuse_slot(
    token: SlotToken,
    open_slot: Shift | None,
    bands: Sequence[BandLike],
    now: dt.datetime,
    tz: ZoneInfo,
    grace: dt.timedelta,
) -> None:
    """Refuse a token that is not for the shift open for rating (`open_slot`, None if none is open): closed
    if its own slot has closed, else wrong-slot naming the open one. Returns (without refusing) only when
    no shift is open and the token's slot is not closed: the caller refuses as for any rating then."""
    band = next((b for b in bands if b.id == token.band_id), None)
    if band is not None and now >= slot_closes_at(band, token.shift_date, tz, grace):
        raise ShiftClosed(
            f"The {band.name} shift of {token.shift_date:%-d %B} has closed for rating, so its token can no "
            "longer be used.",
            "token",
        )
    if open_slot is None:
        return
    mine = f"the {band.name} shift of {token.shift_date:%-d %B}" if band else "another shift"
    raise WrongSlot(
        f"This token is for {mine}, but the shift open for rating now is the {open_slot.band_name} shift of "
        f"{open_slot.shift_date:%-d %B}. Rate that shift with its own token.",
        "token",
        extra={
            "open_slot": {
                "shift_date": open_slot.shift_date.isoformat(),
                "band_id": open_slot.band_id,
                "band": open_slot.band_name,
            }
        },
    )


def _seeds(session: Session, seeds: SeedCache | None, token: SlotToken) -> dict[dt.date, bytes]:
    if seeds is None:
        raise RuntimeError("the rating path was built without token seeds")
    week = token.shift_date - dt.timedelta(days=token.shift_date.weekday())
    return seeds.get(session, [week], create=False)


def verify_tokens(session: Session, seeds: SeedCache | None, team_id: int, proof: TokenProof) -> None:
    """Refuse the rating unless its token and its three pseudonyms are all valid for this team and slot."""
    invalid = invalid_fields(_seeds(session, seeds, proof.token), team_id, proof)
    if invalid:
        names = ", ".join(FIELD_NAMES[name] for name in invalid)
        raise TokenInvalid(
            f"This rating's tokens did not check out ({names}): they were not issued by Pulse for this team "
            "and shift. Your phone will fetch new tokens.",
            invalid[0],
        )


def verify_slot_token(session: Session, seeds: SeedCache | None, team_id: int, token: SlotToken) -> None:
    """Refuse unless the slot token is valid for this team (the reasons step presents it again)."""
    if not check_token(_seeds(session, seeds, token), team_id, token):
        raise TokenInvalid(
            "This rating token did not check out: it was not issued by Pulse for this team and shift.",
            "token",
        )


@dataclass(frozen=True)
class RatingDigests:
    """The digests a rating keeps: of its device secret (open mode) or of its tokens (verified mode)."""

    contributor: bytes  # the team-week's, from the weekly pseudonym
    day: bytes  # the organisation day's, from the daily pseudonym
    org_week: bytes  # the organisation week's, from its pseudonym
    spent: bytes  # the spent-token receipt


def token_digests(shift_key: Key, week_key: Key, proof: TokenProof) -> RatingDigests:
    """The digests a verified rating keeps, under the rating path's keys for its day and week."""
    return RatingDigests(
        contributor=pseudonym_digest(week_key.secret, "token-week", proof.week_pseudonym),
        day=pseudonym_digest(shift_key.secret, "token-day", proof.day_pseudonym),
        org_week=pseudonym_digest(week_key.secret, "token-orgweek", proof.orgweek_pseudonym),
        spent=spent_token_digest(shift_key.secret, proof.token),
    )
