"""A rating on PostgreSQL: one statement on the process's own connection, checked against what it remembers.

Each process remembers which team a join code names and the active shift bands, so that the usual rating
costs one round trip. What it remembers is never trusted blindly: the statement writes only if the team still
has that join code and is active, and the active bands are still the ones the shift was worked out from (a
digest of their ids, names and times). Otherwise nothing is written, the process forgets, and the rating is
worked out again from a fresh lookup. A refusal (no shift open) is only given from a fresh lookup. So a
replaced join code, a deactivated team or an edited band takes effect with the very next rating.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
import threading
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from pulse.models.tallies import ORG_SHIFT_SLOTS
from pulse.services.driver import DirectConnection
from pulse.services.shifts import Shift, week_start
from pulse.services.tallies import COLOURS

# Which slot of the organisation's shift tally a rating adds to: chance, not a secret; it means nothing.
_random = random.Random()  # noqa: S311
# A process forgets every join code past this many: far more teams than a trust has, still little memory.
MAX_JOIN_CODES = 20_000


@dataclass(slots=True)
class Band:
    id: int
    name: str
    start_time: dt.time
    end_time: dt.time


class Outcome(enum.Enum):
    COUNTED = "counted"
    ALREADY_RATED = "already rated"  # this device rated the shift under another request
    REPLAY = "replay"  # this very request was counted before
    STALE = "stale"  # the team or the bands were not as remembered: nothing was written


@dataclass(frozen=True)
class RatingWrite:
    """Everything a rating writes, worked out before the first write."""

    team_id: int
    shift: Shift
    colour: str
    reason_ids: tuple[int, ...]
    request_digest: bytes
    request_key_id: int
    earlier_request_digests: list[bytes]
    shift_digest: bytes
    shift_key_id: int
    contributor_digest: bytes
    week_key_id: int


@dataclass(frozen=True)
class Lookup:
    team_id: int | None
    bands: tuple[Band, ...]
    bands_version: str
    fresh: bool  # read from the database just now, not remembered


# The same digest of the active bands in the lookup and in the statement's check.
_BANDS_VERSION = """(
    SELECT md5(coalesce(string_agg(concat_ws('|', id, name, start_time, end_time), ',' ORDER BY id), ''))
    FROM shift_band WHERE active
)"""

_LOOKUP = """
SELECT
    (SELECT id FROM team WHERE join_code = %(join_code)s AND active),
    __BANDS_VERSION__,
    array_agg(id ORDER BY id), array_agg(name ORDER BY id),
    array_agg(start_time ORDER BY id), array_agg(end_time ORDER BY id)
FROM shift_band WHERE active
""".replace("__BANDS_VERSION__", _BANDS_VERSION).encode()

# Every write of a rating as one statement: one round trip, and atomic in autocommit. Each step runs only if
# the one before it inserted its row: the check of what this process remembered, the request receipt (unless
# a retry; an earlier day's receipt counts too), the shift receipt (unless this device rated the shift), then
# the contributor receipt and the same tally increments as tallies.apply_delta, except that the organisation's
# shift tally takes a random slot (see ORG_SHIFT_SLOTS). Its results say which steps happened. (PostgreSQL
# runs every data-modifying WITH part to completion, read or not.) tests/api and tests/services run on both
# databases and hold this and ratings._write_step_by_step to the same answers.
_ONE_STATEMENT = """
WITH valid AS (
    SELECT 1 FROM team
    WHERE id = %(team_id)s AND join_code = %(join_code)s AND active
        AND __BANDS_VERSION__ = %(bands_version)s
), request AS (
    INSERT INTO request_receipt (digest, key_id, shift_date, band_id, reasons_added)
    SELECT %(request_digest)s, %(request_key_id)s, %(shift_date)s, %(band_id)s, %(reasons_added)s
    FROM valid
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
), contributor AS (
    INSERT INTO contributor_receipt (digest, key_id)
    SELECT %(contributor_digest)s, %(week_key_id)s FROM shift
    ON CONFLICT (digest) DO NOTHING
    RETURNING 1
), team_week AS (
    INSERT INTO team_week_tally (team_id, week_start, red, amber, green, contributors)
    SELECT %(team_id)s, %(week_start)s, %(red)s, %(amber)s, %(green)s, (SELECT count(*) FROM contributor)
    FROM shift
    ON CONFLICT (team_id, week_start) DO UPDATE SET
        red = team_week_tally.red + excluded.red,
        amber = team_week_tally.amber + excluded.amber,
        green = team_week_tally.green + excluded.green,
        contributors = team_week_tally.contributors + excluded.contributors
    RETURNING 1
), reasons AS (
    INSERT INTO team_week_reason_tally (team_id, week_start, tag_id, ratings)
    SELECT %(team_id)s, %(week_start)s, tag_id, 1
    FROM shift, unnest(CAST(%(reason_ids)s AS integer[])) AS tag_id
    ON CONFLICT (team_id, week_start, tag_id) DO UPDATE SET ratings = team_week_reason_tally.ratings + 1
    RETURNING 1
), org_shift AS (
    INSERT INTO org_shift_tally (shift_date, band_id, slot, red, amber, green)
    SELECT %(shift_date)s, %(band_id)s, %(slot)s, %(red)s, %(amber)s, %(green)s FROM shift
    ON CONFLICT (shift_date, band_id, slot) DO UPDATE SET
        red = org_shift_tally.red + excluded.red,
        amber = org_shift_tally.amber + excluded.amber,
        green = org_shift_tally.green + excluded.green
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM valid) AS valid,
    (SELECT count(*) FROM request) AS requested,
    (SELECT count(*) FROM shift) AS counted
""".replace("__BANDS_VERSION__", _BANDS_VERSION).encode()  # bytes: psycopg then need not encode it each time

# Takes back the request receipt of a rating refused as already rated, as a rollback would have.
_TAKE_BACK = b"DELETE FROM request_receipt WHERE digest = %(digest)s RETURNING 1"


class PostgresRatings:
    """One process's rating path on PostgreSQL: its connection, and the join codes and bands it remembers."""

    def __init__(self, engine: Engine) -> None:
        self.connection = DirectConnection(engine)
        self._lock = threading.Lock()
        self._teams: dict[str, int] = {}
        self._bands: tuple[tuple[Band, ...], str] | None = None

    def lookup(self, join_code: str) -> Lookup:
        """The team behind `join_code` and the active bands: remembered, or read (and then remembered)."""
        with self._lock:
            team_id, bands = self._teams.get(join_code), self._bands
        if team_id is not None and bands is not None:
            return Lookup(team_id, bands[0], bands[1], fresh=False)
        [(team_id, version, ids, names, starts, ends)] = self.connection.fetch_all(
            _LOOKUP, {"join_code": join_code}
        )
        columns = (ids or (), names or (), starts or (), ends or ())  # NULLs when no band is active
        fresh = tuple(Band(*band) for band in zip(*columns, strict=True))
        with self._lock:
            self._bands = (fresh, version)
            if team_id is not None:  # an unknown code is not remembered: it is asked about every time
                if len(self._teams) >= MAX_JOIN_CODES:
                    self._teams.clear()
                self._teams[join_code] = team_id
        return Lookup(team_id, fresh, version, fresh=True)

    def forget(self) -> None:
        with self._lock:
            self._teams.clear()
            self._bands = None

    def write(self, write: RatingWrite, join_code: str, bands_version: str) -> Outcome:
        shift = write.shift
        [(valid, requested, counted)] = self.connection.fetch_all(
            _ONE_STATEMENT,
            {
                "join_code": join_code,
                "bands_version": bands_version,
                "request_digest": write.request_digest,
                "request_key_id": write.request_key_id,
                "earlier_request_digests": write.earlier_request_digests,
                "shift_date": shift.shift_date,
                "band_id": shift.band_id,
                "reasons_added": bool(write.reason_ids),
                "shift_digest": write.shift_digest,
                "shift_key_id": write.shift_key_id,
                "contributor_digest": write.contributor_digest,
                "week_key_id": write.week_key_id,
                "team_id": write.team_id,
                "week_start": week_start(shift.shift_date),
                "reason_ids": list(write.reason_ids),
                "slot": _random.randrange(ORG_SHIFT_SLOTS),
                **{colour: int(colour == write.colour) for colour in COLOURS},
            },
        )
        if not valid:
            return Outcome.STALE
        if counted:
            return Outcome.COUNTED
        if requested:
            # This device rated the shift under another request. Take this request's receipt back, so that a
            # retry is refused again rather than answered as if it had been counted.
            self.connection.fetch_all(_TAKE_BACK, {"digest": write.request_digest})
            return Outcome.ALREADY_RATED
        return Outcome.REPLAY
