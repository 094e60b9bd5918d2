"""The published key lists: one team's week (the rating page's) and every team's week (the open data)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import RatingMode, ShiftBand, Team
from pulse.services.organisation import rating_mode
from pulse.services.tokens.issuance import IssuingClock
from pulse.services.tokens.keys import PublishedKey, SeedCache, live_weeks, published_keys


class KeysUnavailable(Exception):
    """Why a key list cannot be given: a problem's status, kind, field and plain-English detail."""

    def __init__(self, status: int, kind: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail, self.field = status, kind, detail, field


@dataclass(frozen=True)
class _Band:
    id: int
    name: str


def list_team_keys(
    session: Session, seeds: SeedCache, team_id: int, week: dt.date, clock: IssuingClock
) -> tuple[dt.date, list[PublishedKey]]:
    """Every public key of `team_id`'s `week`: its slots and team-week, the days and the organisation week.
    Draws the week's seed if it has none yet (the caller commits). Raises KeysUnavailable."""
    bands = _bands_if_verified(session)
    team = session.get(Team, team_id)
    if team is None or not team.active:
        raise KeysUnavailable(404, "unknown-team", "There is no such team.", "team_id")
    seed = _seed(session, seeds, week, bands, clock, "week")
    return week, published_keys(seed, week, [team_id], bands)


def list_week_keys(
    session: Session, seeds: SeedCache, week: dt.date, clock: IssuingClock
) -> list[PublishedKey]:
    """Every public key of `week`, for every active team (the open data). Raises KeysUnavailable."""
    bands = _bands_if_verified(session)
    seed = _seed(session, seeds, week, bands, clock, "week_start")
    team_ids = tuple(session.scalars(select(Team.id).where(Team.active.is_(True)).order_by(Team.id)))
    return _every_key(seed, week, team_ids, tuple(bands))


@functools.lru_cache(maxsize=8)
def _every_key(
    seed: bytes, week: dt.date, team_ids: tuple[int, ...], bands: tuple[_Band, ...]
) -> list[PublishedKey]:
    # Kept: deriving a large trust's week (800 teams) takes about a second. The derived keys themselves are
    # not cached, so that ratings' keys stay in crypto's cache.
    return published_keys(seed, week, team_ids, bands, cache=False)


def _bands_if_verified(session: Session) -> list[_Band]:
    if rating_mode(session) != RatingMode.VERIFIED:
        raise KeysUnavailable(
            404,
            "verified-rating-off",
            "Rating is open in this organisation: there are no token keys.",
        )
    stmt = select(ShiftBand.id, ShiftBand.name).where(ShiftBand.active.is_(True)).order_by(ShiftBand.id)
    return [_Band(band_id, name) for band_id, name in session.execute(stmt)]


def _seed(
    session: Session,
    seeds: SeedCache,
    week: dt.date,
    bands: Sequence[_Band],
    clock: IssuingClock,
    field: str,
) -> bytes:
    full_bands = session.scalars(select(ShiftBand).where(ShiftBand.active.is_(True))).all()
    if week not in live_weeks(full_bands, clock.now, clock.tz, clock.grace):
        raise KeysUnavailable(
            422,
            "week-not-published",
            "Keys are published for this week and next only.",
            field,
        )
    return seeds.get(session, [week], create=True)[week]
