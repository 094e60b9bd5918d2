"""Releasing ratings from the sealed inbox into the tallies, each part at the grain it is published at.

A rating has an organisation part (its shift date, band and colour, and whether its rater is new that day and
that week) and a team part (its team's ISO week, colour, reasons, and whether its rater is new to the team
that week). They are released at different times, in different transactions, so that neither the tallies'
changes nor their row versions ever tie a team to a day or a shift (docs/anonymity.md A2, A10-A12):

- the organisation parts of a shift once at least k of them wait, or when the shift closes for rating (so
  the organisation's shift tallies move in steps of at least k, as "today so far" does, or by a closed
  shift's remainder);
- the team parts of a week all at once, for every team, once the week has closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pulse.models import ContributorReceipt, InboxItem, RatingKey, ReleasedWeek
from pulse.models.receipts import KeyPurpose
from pulse.services.rating.sealing import SealedRating, SealedReasons
from pulse.services.shifts import week_start
from pulse.services.sql import insert_for
from pulse.services.tallies import ColourCounts, TallyDelta, apply_delta


@dataclass(frozen=True)
class OpenedItem:
    """An inbox item, opened with its epoch's key."""

    id: bytes
    org_applied: bool
    content: SealedRating | SealedReasons

    @property
    def week(self) -> dt.date:
        return week_start(self.content.shift_date)


def release_org_parts(session: Session, items: Sequence[OpenedItem]) -> int:
    """Add the organisation parts of `items` (ratings not yet released) to the shift, day and week tallies,
    and mark them released. The caller commits. Returns how many."""
    ratings = [i for i in items if isinstance(i.content, SealedRating) and not i.org_applied]
    if not ratings:
        return 0
    digests: dict[bytes, tuple[KeyPurpose, dt.date]] = {}
    for item in ratings:
        rating = item.content
        assert isinstance(rating, SealedRating)
        if rating.day_digest is not None:
            digests[rating.day_digest] = (KeyPurpose.SHIFT, rating.shift_date)
        if rating.org_week_digest is not None:
            digests[rating.org_week_digest] = (KeyPurpose.WEEK, item.week)
    new = record_contributors(session, digests)
    delta = TallyDelta()
    for item in ratings:
        rating = item.content
        assert isinstance(rating, SealedRating)
        delta.org_shifts.setdefault((rating.shift_date, rating.band_id), ColourCounts()).add(rating.colour)
        if rating.tap or _first(new, rating.day_digest):
            delta.org_day_contributors[rating.shift_date] = (
                delta.org_day_contributors.get(rating.shift_date, 0) + 1
            )
        if rating.tap or _first(new, rating.org_week_digest):
            delta.org_week_contributors[item.week] = delta.org_week_contributors.get(item.week, 0) + 1
    apply_delta(session, delta)
    session.execute(
        update(InboxItem).where(InboxItem.id.in_([i.id for i in ratings])).values(org_applied=True)
    )
    return len(ratings)


def release_team_parts(session: Session, items: Sequence[OpenedItem]) -> tuple[int, int]:
    """Add the team parts of `items` to the team-week tallies (colours, contributors, reasons), releasing
    first any organisation part still waiting, and delete the items. The caller commits. Returns (ratings,
    sets of reasons)."""
    release_org_parts(session, items)
    digests = {
        i.content.contributor_digest: (KeyPurpose.WEEK, i.week)
        for i in items
        if isinstance(i.content, SealedRating) and i.content.contributor_digest is not None
    }
    new = record_contributors(session, digests)
    delta = TallyDelta()
    ratings = reasons = 0
    for item in items:
        content = item.content
        if isinstance(content, SealedRating):
            key = (content.team_id, item.week)
            delta.team_weeks.setdefault(key, ColourCounts()).add(content.colour)
            if content.tap or _first(new, content.contributor_digest):
                delta.team_week_contributors[key] = delta.team_week_contributors.get(key, 0) + 1
            ratings += 1
        else:
            reasons += 1
        for tag_id in content.reason_ids:
            reason_key = (content.team_id, item.week, tag_id)
            delta.team_week_reasons[reason_key] = delta.team_week_reasons.get(reason_key, 0) + 1
    apply_delta(session, delta)
    session.execute(delete(InboxItem).where(InboxItem.id.in_([i.id for i in items])))
    return ratings, reasons


def record_contributors(session: Session, digests: dict[bytes, tuple[KeyPurpose, dt.date]]) -> set[bytes]:
    """Record contributor digests under their keys; returns those not seen before (new contributors).

    A digest whose key has been purged meanwhile (only after a long outage of the maintainer) is not counted
    as new: undercounting contributors can only hide more, never show a group as bigger than it is.
    """
    if not digests:
        return set()
    periods = {period for _purpose, period in digests.values()}
    key_ids = {
        (KeyPurpose(p), d): i
        for p, d, i in session.execute(
            select(RatingKey.purpose, RatingKey.period_start, RatingKey.id).where(
                RatingKey.period_start.in_(periods)
            )
        )
    }
    rows = [
        {"digest": value, "key_id": key_ids[period]}
        for value, period in sorted(digests.items())
        if period in key_ids
    ]
    if not rows:
        return set()
    stmt = (
        insert_for(session, ContributorReceipt)
        .on_conflict_do_nothing(index_elements=["digest"])
        .returning(ContributorReceipt.digest)
    )
    return {bytes(d) for d in session.scalars(stmt, rows)}


def mark_weeks_released(session: Session, weeks: Iterable[dt.date]) -> None:
    """Record that every rating of these (closed) weeks is in the tallies: publication may go ahead."""
    rows = [{"week_start": week} for week in sorted(set(weeks))]
    if rows:
        session.execute(insert_for(session, ReleasedWeek).on_conflict_do_nothing(), rows)


def _first(new: set[bytes], value: bytes | None) -> bool:
    """Whether `value` is a new contributor not yet counted in this batch (then it is counted now)."""
    if value is None or value not in new:
        return False
    new.discard(value)
    return True
