"""Issuing tokens to an enrolled device: at most one per person per slot, ever, and never seeing the token.

The device sends blinded elements, one per slot it wants a token (or pseudonym) for; each is evaluated under
its slot's key, with a proof (tokens.crypto). Before anything is evaluated, the (person, slot) issuance record
is claimed under its unique key, with the digest of the blinded element: so two requests racing for the same
slot cannot both get a token, and a retry of a request whose answer was lost (the same blinded element) is
evaluated again, which gives the same token, not a second one. Everything is checked against the roster now:
the person's teams, the live weeks, slots not yet closed.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import RatingMode, ShiftBand, Team, TokenIssuance
from pulse.services.accounts.roster.devices import authenticate_device
from pulse.services.accounts.roster.staff import active_teams_of
from pulse.services.organisation import rating_mode
from pulse.services.shifts import BandLike, band_window, day_closes_at
from pulse.services.sql import insert_for
from pulse.services.tokens.crypto import MalformedBlindedElement, evaluate_blinded, parse_blinded
from pulse.services.tokens.keys import (
    SeedCache,
    TokenKind,
    TokenSlot,
    live_weeks,
    slot_closes_at,
    week_closes_at,
)
from pulse.services.tokens.rekey import rekey_changed_weeks

# At most this many tokens in one request: two weeks of a person on three teams with four bands and more.
MAX_REQUESTS = 512


class RefusalReason(enum.StrEnum):
    ALREADY_ISSUED = "already-issued"
    NOT_YOUR_TEAM = "not-your-team"
    CLOSED = "closed"
    NO_SUCH_SLOT = "no-such-slot"


class VerifiedRatingOff(Exception):
    """The organisation rates in open mode: there are no tokens to issue."""

    def __init__(self) -> None:
        super().__init__(
            "Rating is open in this organisation: no enrolment or tokens are needed. Rate with your team's "
            "link or poster."
        )


@dataclass(frozen=True)
class TokenRequest:
    slot: TokenSlot
    blinded: bytes


@dataclass(frozen=True)
class Issued:
    request: TokenRequest
    evaluation: bytes  # tokens.crypto.EVALUATION_SIZE bytes: the evaluated element and its proof


@dataclass(frozen=True)
class Refused:
    request: TokenRequest
    reason: RefusalReason
    detail: str


@dataclass
class Issuance:
    teams: list[Team]
    issued: list[Issued]
    refused: list[Refused]


@dataclass(frozen=True)
class IssuingClock:
    now: dt.datetime
    tz: ZoneInfo
    grace: dt.timedelta


def issue_tokens(
    session: Session,
    credential: str,
    requests: Sequence[TokenRequest],
    *,
    clock: IssuingClock,
    seeds: SeedCache,
) -> Issuance:
    """Evaluate each request the device's person may have, refusing the others (each with its reason).

    Raises roster.DeviceRefused (unknown or revoked credential, person deactivated or on no roster),
    VerifiedRatingOff, or MalformedBlindedElement with the field `requests.<i>.blinded`. The caller commits:
    the claimed issuance records must be committed before the answer leaves.
    """
    access = authenticate_device(session, credential)
    if rating_mode(session) != RatingMode.VERIFIED:
        raise VerifiedRatingOff()
    for index, request in enumerate(requests):
        try:
            parse_blinded(request.blinded)
        except MalformedBlindedElement as error:
            raise MalformedBlindedElement(str(error), f"requests.{index}.blinded") from error
    teams = active_teams_of(session, access.staff_member_id)
    bands = {band.id: band for band in session.scalars(select(ShiftBand).where(ShiftBand.active.is_(True)))}
    weeks = live_weeks(list(bands.values()), clock.now, clock.tz, clock.grace)
    # The seeds first: issuance records refer to their week's seed. A week whose keys changed with
    # PULSE_SECRET_KEY says since when (tokens.rekey).
    asked = {r.slot.week_start for r in requests if r.slot.week_start in weeks}
    week_seeds = seeds.get(session, asked, create=True)
    reissued = rekey_changed_weeks(session, seeds.pepper, sorted(week_seeds), clock.now)
    rules = _Rules({team.id for team in teams}, bands, weeks, reissued, clock)
    refused: list[Refused] = []
    wanted: list[TokenRequest] = []
    for request in requests:
        refusal = rules.refusal(request.slot)
        if refusal is None:
            wanted.append(request)
        else:
            refused.append(Refused(request, *refusal))
    allowed, already = claim(session, seeds.pepper, access.staff_member_id, wanted)
    refused += [
        Refused(
            request,
            RefusalReason.ALREADY_ISSUED,
            "A token for this was already issued to you, on another request: Pulse issues one only.",
        )
        for request in already
    ]
    issued = [
        Issued(r, evaluate_blinded(week_seeds[r.slot.week_start], r.slot.info, r.blinded)) for r in allowed
    ]
    return Issuance(teams, issued, refused)


def blinded_digest(blinded: bytes) -> bytes:
    return hashlib.sha256(blinded).digest()


def holder_digest(pepper: bytes, person_id: int, info: bytes) -> bytes:
    """Whose issuance record this is, and for what: HMAC(pepper, "holder" | person | info). Without the
    pepper (PULSE_SECRET_KEY), nobody can tell whose it is."""
    return hmac.digest(pepper, b"holder|" + str(person_id).encode() + b"|" + info, "sha256")


def claim(
    session: Session, pepper: bytes, person_id: int, requests: Sequence[TokenRequest]
) -> tuple[list[TokenRequest], list[TokenRequest]]:
    """Claim the issuance record of each request: (those to evaluate, those already issued otherwise).

    A request may be evaluated if its record is new, or was claimed before with the same blinded element (a
    retry). The insert comes first and is one sorted statement, so concurrent requests for the same person
    queue on the unique key instead of both reading "not yet issued", and cannot deadlock.
    """
    if not requests:
        return [], []
    holders = [holder_digest(pepper, person_id, r.slot.info) for r in requests]
    rows = {
        holder: {
            "holder": holder,
            "week_start": r.slot.week_start,
            "blinded_digest": blinded_digest(r.blinded),
        }
        for holder, r in zip(holders, requests, strict=True)
    }
    stmt = (
        insert_for(session, TokenIssuance)
        .on_conflict_do_nothing(index_elements=["holder"])
        .returning(TokenIssuance.holder)
    )
    claimed = {bytes(h) for h in session.scalars(stmt, [rows[h] for h in sorted(rows)])}
    held = {holder: row["blinded_digest"] for holder, row in rows.items() if holder in claimed}
    others = sorted(set(rows) - claimed)
    if others:
        earlier = select(TokenIssuance.holder, TokenIssuance.blinded_digest).where(
            TokenIssuance.holder.in_(others)
        )
        held.update({bytes(holder): bytes(digest) for holder, digest in session.execute(earlier)})
    allowed: list[TokenRequest] = []
    already: list[TokenRequest] = []
    for holder, request in zip(holders, requests, strict=True):
        if held.get(holder) == blinded_digest(request.blinded):
            allowed.append(request)
        else:
            already.append(request)
    return allowed, already


@dataclass(frozen=True)
class _Rules:
    """What this person may be issued now."""

    team_ids: set[int]
    bands: dict[int, ShiftBand]
    weeks: list[dt.date]
    reissued: dict[dt.date, dt.datetime]  # weeks whose keys changed with PULSE_SECRET_KEY, and when
    clock: IssuingClock

    def refusal(self, slot: TokenSlot) -> tuple[RefusalReason, str] | None:
        if slot.week_start not in self.weeks:
            if slot.week_start < self.weeks[0]:
                return RefusalReason.CLOSED, "This week has closed for rating."
            return RefusalReason.NO_SUCH_SLOT, "Tokens are issued for this week and next only."
        if slot.team_id is not None and slot.team_id not in self.team_ids:
            return RefusalReason.NOT_YOUR_TEAM, "You are not on this team's staff list in Pulse."
        if self._closes_at(slot) is None:
            return RefusalReason.NO_SUCH_SLOT, "There is no such shift band."
        if self.clock.now >= self._closes_at(slot):  # type: ignore[operator]
            return RefusalReason.CLOSED, "This has closed for rating."
        changed = self.reissued.get(slot.week_start)
        if changed is not None and slot.kind == TokenKind.SLOT and self._starts_at(slot) <= changed:
            return RefusalReason.CLOSED, (
                "Pulse's keys were changed after this shift began, so it cannot be issued again: someone may "
                "already have rated it."
            )
        return None

    def _starts_at(self, slot: TokenSlot) -> dt.datetime:
        band = self.bands[slot.band_id or 0]
        return band_window(band, slot.shift_date, self.clock.tz)[0]  # type: ignore[arg-type]

    def _closes_at(self, slot: TokenSlot) -> dt.datetime | None:
        tz, grace = self.clock.tz, self.clock.grace
        bands: list[BandLike] = list(self.bands.values())
        if slot.kind == TokenKind.SLOT:
            band = self.bands.get(slot.band_id or 0)
            return None if band is None else slot_closes_at(band, slot.shift_date, tz, grace)  # type: ignore[arg-type]
        if slot.kind == TokenKind.DAY:
            return day_closes_at(bands, slot.shift_date, tz, grace)  # type: ignore[arg-type]
        return week_closes_at(bands, slot.week_start, tz, grace)
