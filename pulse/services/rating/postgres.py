"""A phone rating on PostgreSQL: one statement on the process's own connection, checked against what it
remembers.

Each process remembers which team a join code names and the active shift bands, so that the usual rating
costs one round trip. What it remembers is never trusted blindly: the statement writes only if the team still
has that join code and is active, and the active bands are still the ones the shift was worked out from (a
digest of their ids, names and times). Otherwise nothing is written, the process forgets, and the rating is
worked out again from a fresh lookup. A refusal (no shift open) is only given from a fresh lookup. So a
replaced join code, a deactivated team or an edited band takes effect with the very next rating.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from pulse.services.rating.driver import DirectConnection
from pulse.services.rating.writes import Outcome, RatingWrite

# Where a parameter is unused (no counter), a value of the same type: a prepared statement's types are fixed.
_NO_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# A process forgets every join code past this many: far more teams than a trust has, still little memory.
MAX_JOIN_CODES = 20_000


@dataclass(slots=True)
class Band:
    id: int
    name: str
    start_time: dt.time
    end_time: dt.time


@dataclass(frozen=True)
class Lookup:
    team_id: int | None
    headcount: int
    bands: tuple[Band, ...]
    bands_version: str
    fresh: bool  # read from the database just now, not remembered
    verified: bool = False  # the organisation rates in verified mode (tokens), not open mode


# The same digest of the active bands in the lookup and in the statement's check.
_BANDS_VERSION = """(
    SELECT md5(coalesce(string_agg(concat_ws('|', id, name, start_time, end_time), ',' ORDER BY id), ''))
    FROM shift_band WHERE active
)"""

# The organisation's rating mode, as text ('open' when nothing is set yet).
_RATING_MODE = """(
    SELECT coalesce((SELECT rating_mode::text FROM organisation_settings ORDER BY id LIMIT 1), 'open')
)"""

_LOOKUP = (
    """
SELECT
    (SELECT id FROM team WHERE join_code = %(join_code)s AND active),
    (SELECT headcount FROM team WHERE join_code = %(join_code)s AND active),
    __RATING_MODE__,
    __BANDS_VERSION__,
    array_agg(id ORDER BY id), array_agg(name ORDER BY id),
    array_agg(start_time ORDER BY id), array_agg(end_time ORDER BY id)
FROM shift_band WHERE active
""".replace("__BANDS_VERSION__", _BANDS_VERSION)
    .replace("__RATING_MODE__", _RATING_MODE)
    .encode()
)

# Every write of a rating as one statement: one round trip, and atomic in autocommit. Each step runs only if
# the one before it did: the check of what this process remembered (team, join code, headcount, bands) and
# that the inbox epoch is still open (under a share lock, which the mixer's close waits for), the request
# receipt (unless a retry; an earlier day's receipt counts too), the shift receipt (unless this device or
# token rated the shift), the team-shift's masked counter below its cap (open mode), then the sealed item.
# The rating mode is checked with the team: a rating worked out for an open team is not written once the
# organisation is verified (nor the other way round). Its results say which steps happened. (PostgreSQL runs
# every data-modifying WITH part to completion, read or not.) rating.writes.write_in_session takes the same
# steps one by one; the API tests hold both to the same answers.
_ONE_STATEMENT = (
    """
WITH valid AS (
    SELECT 1 FROM team
    WHERE id = %(team_id)s AND join_code = %(join_code)s AND active AND headcount = %(headcount)s
        AND __BANDS_VERSION__ = %(bands_version)s AND __RATING_MODE__ = %(rating_mode)s
), epoch AS (
    SELECT 1 FROM inbox_epoch
    WHERE id = %(epoch_id)s AND public_key = %(epoch_key)s AND state = 'open' FOR SHARE
), go AS (
    SELECT 1 FROM valid, epoch
), request AS (
    INSERT INTO request_receipt (digest, key_id, sealed)
    SELECT %(request_digest)s, %(request_key_id)s, %(sealed_receipt)s
    FROM go
    WHERE NOT EXISTS (
        SELECT 1 FROM request_receipt WHERE digest = ANY (CAST(%(earlier_request_digests)s AS bytea[]))
    )
    ON CONFLICT (digest) DO NOTHING
    RETURNING 1
), shift AS (
    INSERT INTO shift_receipt (digest, key_id)
    SELECT %(shift_digest)s, %(shift_key_id)s FROM request
    ON CONFLICT (digest) DO NOTHING
    RETURNING 1
), counter AS (
    INSERT INTO shift_counter (digest, key_id, closes_at, masked_count, masked_next_tap)
    SELECT %(counter_digest)s, %(shift_key_id)s, %(closes_at)s, %(count_mask)s + 1, %(tap_mask)s
    FROM shift WHERE %(capped)s
    ON CONFLICT (digest) DO UPDATE SET masked_count = shift_counter.masked_count + 1
    WHERE shift_counter.masked_count - %(count_mask)s < %(cap)s
    RETURNING 1
), item AS (
    INSERT INTO inbox_item (id, epoch_id, sealed)
    SELECT %(item_id)s, %(epoch_id)s, %(sealed_item)s
    FROM shift
    WHERE NOT %(capped)s OR EXISTS (SELECT 1 FROM counter)
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM valid) AS valid,
    (SELECT count(*) FROM epoch) AS epoch_open,
    (SELECT count(*) FROM request) AS requested,
    (SELECT count(*) FROM shift) AS shifted,
    (SELECT count(*) FROM item) AS counted
""".replace("__BANDS_VERSION__", _BANDS_VERSION)
    .replace("__RATING_MODE__", _RATING_MODE)
    .encode()
)
# (bytes: psycopg then need not encode the statements each time)

# Takes back the receipts of a rating refused after its request receipt was claimed (already rated, or the
# shift is full), as a rollback would have, so that a retry is refused again rather than answered as counted.
_TAKE_BACK = b"""
WITH request AS (DELETE FROM request_receipt WHERE digest = %(request_digest)s RETURNING 1)
DELETE FROM shift_receipt WHERE digest = %(shift_digest)s AND %(shifted)s RETURNING 1
"""


class PostgresRatings:
    """One process's rating path on PostgreSQL: its connection, and the join codes and bands it remembers."""

    def __init__(self, engine: Engine) -> None:
        self.connection = DirectConnection(engine)
        self._lock = threading.Lock()
        self._teams: dict[str, tuple[int, int]] = {}  # join code -> team id, headcount
        self._bands: tuple[tuple[Band, ...], str, bool] | None = None  # active bands, version, verified

    def lookup(self, join_code: str) -> Lookup:
        """The team behind `join_code` and the active bands: remembered, or read (and then remembered)."""
        with self._lock:
            team, bands = self._teams.get(join_code), self._bands
        if team is not None and bands is not None:
            return Lookup(team[0], team[1], bands[0], bands[1], fresh=False, verified=bands[2])
        [(team_id, headcount, mode, version, ids, names, starts, ends)] = self.connection.fetch_all(
            _LOOKUP, {"join_code": join_code}
        )
        columns = (ids or (), names or (), starts or (), ends or ())  # NULLs when no band is active
        fresh = tuple(Band(*band) for band in zip(*columns, strict=True))
        verified = mode == "verified"
        with self._lock:
            self._bands = (fresh, version, verified)
            if team_id is not None:  # an unknown code is not remembered: it is asked about every time
                if len(self._teams) >= MAX_JOIN_CODES:
                    self._teams.clear()
                self._teams[join_code] = (team_id, headcount)
        return Lookup(team_id, headcount or 0, fresh, version, fresh=True, verified=verified)

    def forget(self) -> None:
        with self._lock:
            self._teams.clear()
            self._bands = None

    def write(self, write: RatingWrite, join_code: str, lookup: Lookup) -> Outcome:
        counter = write.counter
        params = {
            "join_code": join_code,
            "headcount": lookup.headcount,
            "bands_version": lookup.bands_version,
            "rating_mode": "verified" if lookup.verified else "open",
            "team_id": write.team_id,
            "epoch_id": write.epoch_id,
            "epoch_key": write.epoch_key,
            "request_digest": write.request_digest,
            "request_key_id": write.request_key_id,
            "earlier_request_digests": write.earlier_request_digests,
            "sealed_receipt": write.sealed_receipt,
            "shift_digest": write.shift_digest,
            "shift_key_id": write.shift_key_id,
            "capped": counter is not None,
            "counter_digest": counter.digest if counter else b"",
            "closes_at": counter.closes_at if counter else _NO_TIME,
            "count_mask": counter.count_mask if counter else 0,
            "tap_mask": counter.tap_mask if counter else 0,
            "cap": counter.cap if counter else 0,
            "item_id": write.item_id,
            "sealed_item": write.sealed_item,
        }
        [(valid, epoch_open, requested, shifted, counted)] = self.connection.fetch_all(_ONE_STATEMENT, params)
        if not valid:
            return Outcome.STALE
        if not epoch_open:
            return Outcome.STALE_EPOCH
        if counted:
            return Outcome.COUNTED
        if not requested:
            return Outcome.REPLAY
        self.connection.fetch_all(
            _TAKE_BACK,
            {
                "request_digest": write.request_digest,
                "shift_digest": write.shift_digest,
                "shifted": bool(shifted),
            },
        )
        return Outcome.SHIFT_FULL if shifted else Outcome.ALREADY_RATED
