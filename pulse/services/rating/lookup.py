"""What a rating reads before it writes: its team, the active shift bands and the rating mode (the SQLite
path; rating.postgres remembers them on PostgreSQL), its reason tags, and the receipt of a request made
before (for retries and the reasons that follow a rating)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from pulse.models import OrganisationSettings, ReasonTag, RequestReceipt, ShiftBand, Team
from pulse.models.accounts import RatingMode
from pulse.models.receipts import KeyPurpose
from pulse.services.rating.errors import UnknownReason
from pulse.services.rating.keys import REQUEST_KEY_DAYS, Key, KeyCache, digest
from pulse.services.rating.postgres import Band, Lookup
from pulse.services.rating.sealing import ReceiptPayload, open_receipt, receipt_key

_team = Team.__table__
_band = ShiftBand.__table__
_request = RequestReceipt.__table__
_settings = OrganisationSettings.__table__

# One query for the team behind a join code (with its headcount), the organisation's rating mode and the
# active shift bands (a row per band).
_TEAM = (
    select(_team.c.id, _team.c.headcount)
    .where(_team.c.join_code == bindparam("join_code"), _team.c.active.is_(True))
    .subquery()
)
_MODE = select(_settings.c.rating_mode).order_by(_settings.c.id).limit(1).scalar_subquery()
_TEAM_AND_BANDS = select(
    select(_TEAM.c.id).scalar_subquery().label("team_id"),
    select(_TEAM.c.headcount).scalar_subquery().label("headcount"),
    _MODE.label("rating_mode"),
    _band.c.id,
    _band.c.name,
    _band.c.start_time,
    _band.c.end_time,
).where(_band.c.active.is_(True))
_TEAM_ONLY = select(_TEAM.c.id, _TEAM.c.headcount, _MODE.label("rating_mode"))
_RECEIPTS = select(_request.c.digest, _request.c.sealed).where(
    _request.c.digest.in_(bindparam("digests", expanding=True))
)


def lookup_team(session: Session, join_code: str) -> Lookup:
    """The team behind a join code, the active bands and the rating mode, through the session (SQLite)."""
    params = {"join_code": join_code}
    rows = session.connection().execute(_TEAM_AND_BANDS, params).all()
    if not rows:  # no band is active: the team alone still decides between 404 and "no shift open"
        team = session.connection().execute(_TEAM_ONLY, params).first()
        if team is None:
            return Lookup(None, 0, (), "", fresh=True)
        return Lookup(team[0], team[1] or 0, (), "", fresh=True, verified=_verified(team[2]))
    first = rows[0]
    bands = tuple(Band(r[3], r[4], r[5], r[6]) for r in rows)
    return Lookup(first[0], first[1] or 0, bands, "", fresh=True, verified=_verified(first[2]))


def _verified(mode: str | None) -> bool:
    return mode == RatingMode.VERIFIED.value


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


@dataclass(frozen=True)
class FoundReceipt:
    digest: bytes
    sealed: bytes
    payload: ReceiptPayload
    key: bytes  # what it is sealed under


def request_keys(session: Session, key_cache: KeyCache, now: dt.datetime, tz: ZoneInfo) -> list[Key]:
    """The request keys a retry may have been made under: today's first, then earlier days' that exist."""
    local_today = now.astimezone(tz).date()
    days = [local_today - dt.timedelta(days=n) for n in range(REQUEST_KEY_DAYS)]
    keys, _ = key_cache.get(session, [], [(KeyPurpose.REQUEST, d) for d in days])
    return [keys[(KeyPurpose.REQUEST, d)] for d in days if (KeyPurpose.REQUEST, d) in keys]


def find_receipt(
    session: Session, keys: Sequence[Key], requester: str, idempotency_key: str
) -> FoundReceipt | None:
    """The receipt of the request `idempotency_key` from `requester`, opened; None if there is none."""
    by_digest = {digest(k.secret, requester, idempotency_key): k for k in keys}
    if not by_digest:
        return None
    row = session.execute(_RECEIPTS, {"digests": list(by_digest)}).first()
    if row is None:
        return None
    key = receipt_key(by_digest[bytes(row.digest)].secret, requester, idempotency_key)
    sealed = bytes(row.sealed)
    return FoundReceipt(bytes(row.digest), sealed, open_receipt(key, sealed), key)
