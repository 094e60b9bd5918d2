"""Reading PostgreSQL's heap pages as someone with the data files would: every tuple version still in them.

`get_raw_page` (pageinspect, superuser) gives a block's 8 kB exactly as on disk, free space included. Each
8-byte-aligned offset is tried as a heap tuple (storage/htup_details.h: t_xmin, t_xmax, t_cid, t_ctid,
t_infomask2 with the number of attributes, t_infomask, t_hoff, the null bitmap, then the attributes at their
alignment). A candidate is kept when its header fits the table (attribute count, header length) and its values
are plausible: teams, bands and tags that exist, dates that could be shift dates, counts that could be counts.
Live, dead and vacuumed-over versions all come back with the transaction id that wrote them.

The versions become transactions: a version whose predecessor (same key, t_xmax = its t_xmin) survives is a
known delta; a first insert (no HEAP_UPDATED flag) is a delta from nothing; any other is only a touch.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.privacy.catalogue import Catalogue, Kind, Table
from tests.privacy.inference import Change, Transaction

PAGE = 8192
PAGE_HEADER = 24
HEAP_HASNULL = 0x0001
HEAP_XMIN_COMMITTED = 0x0100
HEAP_XMIN_INVALID = 0x0200
HEAP_UPDATED = 0x2000
NATTS_MASK = 0x07FF
EPOCH = dt.date(2000, 1, 1)
ALIGN = {"c": 1, "s": 2, "i": 4, "d": 8}
FIXED = {"int2": "<h", "int4": "<i", "int8": "<q", "oid": "<I", "float8": "<d", "float4": "<f"}
CARVED = (Kind.TEAM_TALLY, Kind.SHIFT_TALLY, Kind.REASON_TALLY, Kind.SHIFT_MARK, Kind.LINK)


@dataclass(frozen=True)
class Attribute:
    name: str
    length: int
    align: int
    type: str
    enum: bool


@dataclass(frozen=True)
class Version:
    table: Table
    xmin: int
    xmax: int
    updated: bool
    row: tuple[tuple[str, object], ...]

    @property
    def values(self) -> dict:
        return dict(self.row)


def _align(offset: int, alignment: int) -> int:
    return (offset + alignment - 1) // alignment * alignment


def layout(connection: Connection, table: str) -> list[Attribute]:
    rows = connection.execute(
        text(
            "SELECT a.attname, a.attlen, a.attalign, t.typname, t.typtype = 'e' "
            "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = CAST(:table AS regclass) AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum"
        ),
        {"table": table},
    )
    return [Attribute(n, length, ALIGN[align], typ, enum) for n, length, align, typ, enum in rows]


class Carver:
    """Heap tuples of one table, carved out of raw pages."""

    def __init__(self, table: Table, attributes: list[Attribute], plausible: dict[str, set], enums: dict):
        self.table = table
        self.attributes = attributes
        self.plausible = plausible
        self.enums = enums
        natts = len(attributes)
        self.hoff_plain = _align(23, 8)
        self.hoff_nulls = _align(23 + (natts + 7) // 8, 8)

    def carve(self, page: bytes, newest_xid: int) -> list[Version]:
        found = []
        for offset in range(PAGE_HEADER, PAGE - self.hoff_plain, 8):
            version = self._tuple(page, offset, newest_xid)
            if version is not None:
                found.append(version)
        return found

    def _tuple(self, page: bytes, at: int, newest_xid: int) -> Version | None:
        xmin, xmax = struct.unpack_from("<II", page, at)
        infomask2, infomask = struct.unpack_from("<HH", page, at + 18)
        hoff = page[at + 22]
        if (infomask2 & NATTS_MASK) != len(self.attributes) or not 3 <= xmin <= newest_xid:
            return None
        if infomask & (HEAP_XMIN_COMMITTED | HEAP_XMIN_INVALID) == HEAP_XMIN_INVALID:
            return None  # its transaction aborted
        nulls = bool(infomask & HEAP_HASNULL)
        if hoff != (self.hoff_nulls if nulls else self.hoff_plain):
            return None
        bitmap = page[at + 23 : at + hoff]
        offset = at + hoff
        values: list[tuple[str, object]] = []
        for i, attribute in enumerate(self.attributes):
            if nulls and not (bitmap[i // 8] >> (i % 8)) & 1:
                values.append((attribute.name, None))
                continue
            decoded = self._value(page, offset, at, attribute)
            if decoded is None:
                return None
            value, offset = decoded
            if not self._plausible(attribute.name, value):
                return None
            values.append((attribute.name, value))
        return Version(self.table, xmin, xmax, bool(infomask & HEAP_UPDATED), tuple(values))

    def _value(self, page: bytes, offset: int, start: int, attribute: Attribute) -> tuple[object, int] | None:
        if attribute.length > 0:
            offset = start + _align(offset - start, attribute.align)
            end = offset + attribute.length
            if end > PAGE:
                return None
            raw = page[offset:end]
            if attribute.enum:
                value: object = self.enums.get(struct.unpack("<I", raw)[0])
            elif attribute.type == "date":
                days = struct.unpack("<i", raw)[0]
                if not -3650 <= days <= 36500:
                    return None
                value = EPOCH + dt.timedelta(days=days)
            elif attribute.type == "bool":
                if raw[0] > 1:
                    return None
                value = bool(raw[0])
            elif attribute.type in FIXED:
                value = struct.unpack(FIXED[attribute.type], raw)[0]
            else:
                value = bytes(raw)
            return value, end
        if attribute.length != -1:
            return None
        if page[offset] == 0:  # padding before a varlena with a 4-byte header
            offset = start + _align(offset - start, attribute.align)
        first = page[offset]
        if first & 0x01:
            if first == 0x01:
                return None  # a TOAST pointer: not here
            size, header = first >> 1, 1
        else:
            word = struct.unpack_from("<I", page, offset)[0]
            if word & 0x03:
                return None  # compressed
            size, header = word >> 2, 4
        if size < header or offset + size > PAGE:
            return None
        data = bytes(page[offset + header : offset + size])
        if attribute.type in ("text", "varchar", "bpchar"):
            try:
                return data.decode(), offset + size
            except UnicodeDecodeError:
                return None
        return data, offset + size

    def _plausible(self, column: str, value: object) -> bool:
        table = self.table
        if column in (table.team, table.band, table.tag):
            return value in self.plausible[column]
        if column in table.colours or (column in table.integers and column not in table.key):
            return isinstance(value, int) and 0 <= value < 1_000_000
        if column in table.dates:
            return isinstance(value, dt.date) and dt.date(2020, 1, 1) <= value <= dt.date(2040, 1, 1)
        return True


def carve_versions(connection: Connection, catalogue: Catalogue) -> list[Version]:
    """Every version of every tally, receipt or link table's rows still in its pages."""
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    newest = connection.scalar(text("SELECT txid_current() % 4294967296"))
    enums: dict[int, str] = {
        oid: label for oid, label in connection.execute(text("SELECT oid, enumlabel FROM pg_enum"))
    }
    ids = {
        ref: set(connection.scalars(text(f"SELECT id FROM {ref}")))
        for ref in ("team", "shift_band", "reason_tag")
    }
    versions: set[Version] = set()
    for table in catalogue.of_kind(*CARVED):
        plausible = {
            column: ids[ref]
            for column, ref in ((table.team, "team"), (table.band, "shift_band"), (table.tag, "reason_tag"))
            if column
        }
        carver = Carver(table, layout(connection, table.name), plausible, enums)
        blocks = connection.scalar(
            text("SELECT pg_relation_size(CAST(:t AS regclass)) / 8192"), {"t": table.name}
        )
        for block in range(int(blocks or 0)):
            page = connection.scalar(
                text("SELECT get_raw_page(:t, 'main', :b)"), {"t": table.name, "b": block}
            )
            versions.update(carver.carve(bytes(page), int(newest)))
    return sorted(versions, key=lambda v: (v.xmin, v.table.name))


def transactions(versions: list[Version]) -> list[Transaction]:
    """The versions grouped by the transaction that wrote them, each as a change from its predecessor."""
    by_key: dict[tuple, list[Version]] = defaultdict(list)
    for version in versions:
        by_key[(version.table.name, version.table.row_key(version.values))].append(version)
    txns: dict[int, Transaction] = {}
    for version in versions:
        siblings = by_key[(version.table.name, version.table.row_key(version.values))]
        before = next((s for s in siblings if s.xmax == version.xmin and s.xmin < version.xmin), None)
        if before is not None:
            change = Change(version.table, before.values, version.values)
        elif not version.updated:
            change = Change(version.table, None, version.values)
        else:
            change = Change(version.table, None, version.values, known=False)
        txns.setdefault(version.xmin, Transaction(version.xmin)).changes.append(change)
    return [txns[x] for x in sorted(txns)]
