"""When PULSE_SECRET_KEY changes, every token key of the live weeks changes with it (the seeds are used
peppered with it), every token already on a phone stops checking out, and every issuance record stops
matching (its holder digest is peppered too). This decides what may then be issued afresh.

Issuance notices the change by the week's `key_check` and records, once per change (a conditional update
claims it), when it noticed (`reissued_at`). From then on:
- shifts that had started by then are not issued again, to anyone: someone may have rated them with a token
  of the old keys, and a new token would let them rate again. Those who had not rated such a shift lose it;
- shifts not yet started are issued afresh: no token of the old keys can have been spent on them;
- so are the pseudonyms (team-week, day, organisation week), without which nobody could rate again this
  week. A pseudonym is never spent; a new one makes its person a new contributor of the week, as the change
  of PULSE_SECRET_KEY already does to every digest of the rating path (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pulse.models import TokenSeed
from pulse.services.tokens.keys import key_check, pepper_seed


def rekey_changed_weeks(
    session: Session, pepper: bytes, weeks: Sequence[dt.date], now: dt.datetime
) -> dict[dt.date, dt.datetime]:
    """Record a change of secret key for each of `weeks` whose seed was checked under another one. Returns,
    for every week of `weeks` that has ever been reissued, when. The caller commits."""
    reissued: dict[dt.date, dt.datetime] = {}
    seeds = select(TokenSeed.week_start, TokenSeed.secret, TokenSeed.key_check, TokenSeed.reissued_at)
    for week, secret, old_check, reissued_at in session.execute(seeds.where(TokenSeed.week_start.in_(weeks))):
        new_check = key_check(pepper_seed(pepper, bytes(secret)))
        if bytes(old_check) != new_check:
            session.execute(
                update(TokenSeed)
                .where(TokenSeed.week_start == week, TokenSeed.key_check == old_check)
                .values(key_check=new_check, reissued_at=now.astimezone(dt.UTC))
            )
            reissued_at = session.scalar(select(TokenSeed.reissued_at).where(TokenSeed.week_start == week))
        if reissued_at is not None:  # SQLite gives back a naive datetime: it was stored in UTC
            reissued[week] = reissued_at if reissued_at.tzinfo else reissued_at.replace(tzinfo=dt.UTC)
    return reissued
