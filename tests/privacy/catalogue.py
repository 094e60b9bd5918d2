"""What each table could tell an attacker, read from the database's own catalogue (not from Pulse's models).

A column's role comes from its name or its foreign key: a team, a shift band, a reason tag, a date, a colour
count. A table's kind follows from its roles, so that the attacks keep working on whatever tables the
storage has: a team tally (team, date, colours), a shift tally (band, date, colours, no team), a reason tally
(team, tag), a shift mark (band and date, no counts: a receipt), a direct link (team, band and date in one
row), keys (a secret with a period) and digests (a binary value under a key).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy import Date, DateTime, Integer, LargeBinary, inspect
from sqlalchemy.engine import Engine

COLOURS = ("red", "amber", "green")


class Kind(enum.Enum):
    TEAM_TALLY = "team tally"
    SHIFT_TALLY = "shift tally"
    REASON_TALLY = "reason tally"
    SHIFT_MARK = "shift mark"
    LINK = "team and shift in one row"
    KEYS = "keys"
    DIGESTS = "digests"
    OTHER = "other"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    team: str | None = None
    band: str | None = None
    tag: str | None = None
    day: str | None = None  # the date column (a shift date, or a team tally's week)
    colours: tuple[str, ...] = ()
    binary: tuple[str, ...] = ()
    key_ref: str | None = None  # a digest's key id
    dates: tuple[str, ...] = ()
    integers: frozenset[str] = field(default_factory=frozenset)

    @property
    def kind(self) -> Kind:
        if self.team and self.band and self.day:
            return Kind.LINK
        if self.colours and self.team and self.day:
            return Kind.TEAM_TALLY
        if self.colours and self.band and self.day:
            return Kind.SHIFT_TALLY
        if self.team and self.tag:
            return Kind.REASON_TALLY
        if self.band and self.day:
            return Kind.SHIFT_MARK
        if "secret" in self.binary and self.dates:
            return Kind.KEYS
        if self.binary and self.key_ref:
            return Kind.DIGESTS
        return Kind.OTHER

    def row_key(self, row: dict) -> tuple:
        return tuple(row[c] for c in self.key)


@dataclass(frozen=True)
class Catalogue:
    tables: dict[str, Table]

    def of_kind(self, *kinds: Kind) -> list[Table]:
        return [t for t in self.tables.values() if t.kind in kinds]


def _role(name: str, references: str | None, wanted: str, *names: str) -> bool:
    return references == wanted or name in names


def read_catalogue(engine: Engine) -> Catalogue:
    inspector = inspect(engine)
    tables = {}
    for name in inspector.get_table_names():
        if name == "alembic_version":
            continue
        columns = inspector.get_columns(name)
        references = {
            fk["constrained_columns"][0]: fk["referred_table"]
            for fk in inspector.get_foreign_keys(name)
            if len(fk["constrained_columns"]) == 1
        }
        primary = tuple(inspector.get_pk_constraint(name).get("constrained_columns") or ())
        names = tuple(c["name"] for c in columns)
        found: dict[str, str] = {}
        for column in columns:
            col, ref = column["name"], references.get(column["name"])
            if _role(col, ref, "team", "team_id"):
                found.setdefault("team", col)
            elif _role(col, ref, "shift_band", "band_id"):
                found.setdefault("band", col)
            elif _role(col, ref, "reason_tag", "tag_id"):
                found.setdefault("tag", col)
            elif ref is not None and col.startswith("key"):
                found.setdefault("key_ref", col)
        dates = tuple(
            c["name"] for c in columns if isinstance(c["type"], Date) and not isinstance(c["type"], DateTime)
        )
        day = None
        if dates:
            day = next((d for d in dates if d in ("shift_date", "week_start", "period")), dates[0])
        colours = tuple(c for c in COLOURS if c in names)
        binary = tuple(c["name"] for c in columns if isinstance(c["type"], LargeBinary))
        integers = frozenset(c["name"] for c in columns if isinstance(c["type"], Integer))
        counters = set(colours) | {c for c in integers if c not in primary and c not in references}
        key = primary or tuple(c for c in names if c not in counters)
        tables[name] = Table(
            name=name,
            columns=names,
            key=key,
            team=found.get("team"),
            band=found.get("band"),
            tag=found.get("tag"),
            day=day,
            colours=colours,
            binary=binary,
            key_ref=found.get("key_ref"),
            dates=dates,
            integers=integers,
        )
    return Catalogue(tables)
