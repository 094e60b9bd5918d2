"""Token keys: one random seed per ISO week, peppered, from which every key of the week is derived; the
list of public keys published for everyone; and the seeds' destruction once their week has closed.

What a key is for is a `TokenSlot`: a team's shift slot (rating tokens, spent once), a team-week (the weekly
contributor pseudonym), an organisation day or an organisation week (the daily and weekly pseudonyms that
count distinct raters at the organisation's grains). Its public `info` string names it, and RFC 9497's
DeriveKeyPair turns (seed, info) into its key pair (tokens.crypto), so nothing per key is stored.

The seed is stored, but used only as HMAC(pepper, seed), the pepper coming from PULSE_SECRET_KEY: the database
alone (a backup, a reporting account) cannot derive a key, so cannot mint tokens. Changing the secret key
changes every key (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pulse.models import ShiftBand, TokenIssuance, TokenSeed
from pulse.services.shifts import BandLike, band_window, day_closes_at, week_start
from pulse.services.sql import insert_for
from pulse.services.tokens.crypto import (
    SEED_SIZE,
    build_day_info,
    build_org_week_info,
    build_slot_info,
    build_week_info,
    derive_public_key,
)

PEPPER_LABEL = b"pulse/v1/token-seed-pepper"
CHECK_LABEL = b"pulse/v1/token-seed-check"
# A seed outlives its week's last slot by this much, so that a rating in flight at the close still finds it.
SAFETY_MARGIN = dt.timedelta(hours=1)
WEEK = dt.timedelta(days=7)


class TokenKind(enum.StrEnum):
    SLOT = "slot"  # a rating token: one person, one team, one shift; spent once
    WEEK = "week"  # a team-week contributor pseudonym, shown with every rating of that team-week
    DAY = "day"  # an organisation-day pseudonym
    ORG_WEEK = "orgweek"  # an organisation-week pseudonym


@dataclass(frozen=True, order=True)
class TokenSlot:
    """What one key (and every token issued under it) is for. Only the fields of its kind are set."""

    kind: TokenKind
    week_start: dt.date  # the week whose seed derives the key
    team_id: int | None = None
    shift_date: dt.date | None = None  # SLOT and DAY
    band_id: int | None = None  # SLOT

    @classmethod
    def slot(cls, team_id: int, shift_date: dt.date, band_id: int) -> TokenSlot:
        return cls(TokenKind.SLOT, week_start(shift_date), team_id, shift_date, band_id)

    @classmethod
    def team_week(cls, team_id: int, week: dt.date) -> TokenSlot:
        return cls(TokenKind.WEEK, week, team_id)

    @classmethod
    def day(cls, shift_date: dt.date) -> TokenSlot:
        return cls(TokenKind.DAY, week_start(shift_date), shift_date=shift_date)

    @classmethod
    def org_week(cls, week: dt.date) -> TokenSlot:
        return cls(TokenKind.ORG_WEEK, week)

    @property
    def info(self) -> bytes:
        """The public info string of this slot's key (tokens.crypto's builders)."""
        if self.kind == TokenKind.SLOT:
            assert self.team_id is not None and self.shift_date is not None and self.band_id is not None
            return build_slot_info(self.team_id, self.shift_date, self.band_id)
        if self.kind == TokenKind.WEEK:
            assert self.team_id is not None
            return build_week_info(self.team_id, self.week_start)
        if self.kind == TokenKind.DAY:
            assert self.shift_date is not None
            return build_day_info(self.shift_date)
        return build_org_week_info(self.week_start)


def derive_token_pepper(secret_key: str) -> bytes:
    """The pepper every seed is used with, from the application's secret key (never in the database)."""
    return hmac.digest(secret_key.encode(), PEPPER_LABEL, "sha256")


def pepper_seed(pepper: bytes, stored: bytes) -> bytes:
    """The seed keys are derived from: HMAC-SHA256(pepper, stored seed), 32 bytes."""
    return hmac.digest(pepper, bytes(stored), "sha256")


@dataclass
class SeedCache:
    """Seeds already read, kept by one process (a seed never changes; it is only deleted once its week has
    closed, when no token of it can be issued or spent). Only seeds that existed before the call are kept: one
    created in a transaction that is then rolled back must not be remembered."""

    pepper: bytes
    _seeds: dict[dt.date, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, session: Session, weeks: Iterable[dt.date], *, create: bool) -> dict[dt.date, bytes]:
        """The peppered seeds of `weeks`, creating missing ones if `create` (the caller commits)."""
        weeks = sorted(set(weeks))
        with self._lock:
            found = {w: self._seeds[w] for w in weeks if w in self._seeds}
        missing = [w for w in weeks if w not in found]
        if not missing:
            return found
        stored = load_seeds(session, missing)
        with self._lock:
            for week, secret in stored.items():
                self._seeds[week] = pepper_seed(self.pepper, secret)
                found[week] = self._seeds[week]
        still_missing = [w for w in missing if w not in stored]
        if create and still_missing:
            ensure_seeds(session, still_missing, self.pepper)
            created = load_seeds(session, still_missing)
            found.update({w: pepper_seed(self.pepper, s) for w, s in created.items()})
        return found

    def clear(self) -> None:
        with self._lock:
            self._seeds.clear()


def load_seeds(session: Session, weeks: Sequence[dt.date]) -> dict[dt.date, bytes]:
    """The stored (unpeppered) seeds of those of `weeks` that have one."""
    rows = session.execute(
        select(TokenSeed.week_start, TokenSeed.secret).where(TokenSeed.week_start.in_(weeks))
    )
    return {week: bytes(secret) for week, secret in rows}


def key_check(peppered_seed: bytes) -> bytes:
    """What token_seed.key_check holds: a digest of the peppered seed, which changes with PULSE_SECRET_KEY."""
    return hmac.digest(peppered_seed, CHECK_LABEL, "sha256")


def ensure_seeds(session: Session, weeks: Iterable[dt.date], pepper: bytes) -> None:
    """Draw a seed for each of `weeks` that has none (one sorted statement: concurrent callers cannot
    deadlock, and the first to commit wins). The caller commits."""
    rows = []
    for week in sorted(set(weeks)):
        secret = secrets.token_bytes(SEED_SIZE)
        rows.append(
            {"week_start": week, "secret": secret, "key_check": key_check(pepper_seed(pepper, secret))}
        )
    if rows:
        session.execute(
            insert_for(session, TokenSeed).on_conflict_do_nothing(index_elements=["week_start"]), rows
        )


# -- Which weeks are live --


def week_closes_at(
    bands: Sequence[BandLike], week: dt.date, tz: ZoneInfo, grace: dt.timedelta
) -> dt.datetime:
    """When the week's last slot (its Sunday's last band, plus the grace period) closes for rating."""
    return day_closes_at(bands, week + dt.timedelta(days=6), tz, grace)


def slot_closes_at(band: BandLike, shift_date: dt.date, tz: ZoneInfo, grace: dt.timedelta) -> dt.datetime:
    return band_window(band, shift_date, tz)[1] + grace


def live_weeks(
    bands: Sequence[BandLike], now: dt.datetime, tz: ZoneInfo, grace: dt.timedelta
) -> list[dt.date]:
    """The weeks tokens are issued and published for: the current ISO week and the next, and the week before
    until its last slot (a Sunday night) has closed."""
    current = week_start(now.astimezone(tz).date())
    weeks = [current, current + WEEK]
    if now < week_closes_at(bands, current - WEEK, tz, grace):
        weeks.insert(0, current - WEEK)
    return weeks


# -- The published list --


class NamedBand(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class PublishedKey:
    slot: TokenSlot
    public_key: bytes
    band_name: str | None = None


def published_keys(
    seed: bytes, week: dt.date, team_ids: Sequence[int], bands: Sequence[NamedBand], *, cache: bool = True
) -> list[PublishedKey]:
    """Every public key of `week` for these teams: each team's slots (every band, every day) and team-week,
    then the week's days and the organisation week. The same list, the same bytes, for everyone."""
    days = [week + dt.timedelta(days=n) for n in range(7)]
    slots: list[tuple[TokenSlot, str | None]] = []
    for team_id in team_ids:
        slots += [(TokenSlot.slot(team_id, day, band.id), band.name) for day in days for band in bands]
        slots.append((TokenSlot.team_week(team_id, week), None))
    slots += [(TokenSlot.day(day), None) for day in days]
    slots.append((TokenSlot.org_week(week), None))
    return [PublishedKey(slot, derive_public_key(seed, slot.info, cache=cache), name) for slot, name in slots]


# -- Destruction --


def purge_closed_seeds(session: Session, now: dt.datetime, tz: ZoneInfo, grace: dt.timedelta) -> int:
    """Destroy the seed of every week whose last slot has closed (with a safety margin), and the week's
    issuance records with it: no token of it can be issued or spent any more. Returns how many seeds. The
    caller commits."""
    bands = session.scalars(select(ShiftBand)).all()  # retired bands too: a slot of theirs may still close
    closed = [
        week
        for week in session.scalars(select(TokenSeed.week_start))
        if now >= week_closes_at(bands, week, tz, grace) + SAFETY_MARGIN
    ]
    if not closed:
        return 0
    session.execute(delete(TokenIssuance).where(TokenIssuance.week_start.in_(closed)))
    session.execute(delete(TokenSeed).where(TokenSeed.week_start.in_(closed)))
    return len(closed)
