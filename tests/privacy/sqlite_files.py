"""Reading SQLite's files as an attacker with a copy of them would: the write-ahead log, frame by frame.

The WAL format (sqlite.org/fileformat.html, section 4): a 32-byte header (magic, version, page size,
checkpoint sequence, salt-1, salt-2, checksums), then frames of a 24-byte header (page number; for the last
frame of a transaction, the database size in pages; salt-1, salt-2; checksums) and one page. A checkpoint
that empties the log starts it again from the first frame with salt-1 increased by one, so frames of earlier
generations may still sit past the end of the current one: they are read too, oldest generation first.
Checksums are not checked (an attacker has no reason to), only the salts.

Each transaction's pages, laid over the main file and the transactions before it, give the database as it
was after that transaction: `snapshots` yields each as bytes, which sqlite3 opens with `deserialize`.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.privacy.catalogue import Catalogue

WAL_MAGIC = (0x377F0682, 0x377F0683)
WAL_HEADER = 32
FRAME_HEADER = 24


@dataclass(frozen=True)
class Frame:
    page: int
    commit_size: int  # pages in the database after this transaction; 0 inside a transaction
    salt: tuple[int, int]
    data: bytes


def read_wal(path: Path) -> tuple[int, list[list[Frame]]]:
    """The page size and the committed transactions in the log, oldest generation first."""
    raw = path.read_bytes() if path.exists() else b""
    if len(raw) < WAL_HEADER:
        return 0, []
    magic, _version, page_size, _seq, salt1, salt2 = struct.unpack(">6I", raw[:24])
    if magic not in WAL_MAGIC:
        return 0, []
    frames: list[Frame] = []
    offset = WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(raw):
        page, size, s1, s2 = struct.unpack(">4I", raw[offset : offset + 16])
        data = raw[offset + FRAME_HEADER : offset + FRAME_HEADER + page_size]
        if page:
            frames.append(Frame(page, size, (s1, s2), data))
        offset += FRAME_HEADER + page_size
    generations: dict[tuple[int, int], list[Frame]] = {}
    for frame in frames:
        generations.setdefault(frame.salt, []).append(frame)
    current = (salt1, salt2)
    older = sorted((s for s in generations if s != current), key=lambda s: s[0])
    transactions = []
    for salt in [*older, current]:
        pending: list[Frame] = []
        for frame in generations.get(salt, []):
            pending.append(frame)
            if frame.commit_size:
                transactions.append(pending)
                pending = []
    return page_size, transactions


def snapshots(main: Path, wal: Path) -> Iterator[bytes]:
    """The database after each committed transaction in the log, in order (the main file alone first)."""
    page_size, transactions = read_wal(wal)
    image = bytearray(main.read_bytes())
    if len(image) >= 20:
        image[18:20] = b"\x01\x01"  # rollback-journal mode: sqlite3 reads the image alone, with no WAL
    yield bytes(image)
    for transaction in transactions:
        for frame in transaction:
            start = (frame.page - 1) * page_size
            if len(image) < start + page_size:
                image.extend(bytes(start + page_size - len(image)))
            image[start : start + page_size] = frame.data
        del image[transaction[-1].commit_size * page_size :]
        image[18:20] = b"\x01\x01"
        yield bytes(image)


def read_tables(image: bytes, catalogue: Catalogue) -> dict[str, dict]:
    """Every row of the catalogue's tables in a database image: {table: {row key: row}}; unreadable: {}."""
    connection = sqlite3.connect(":memory:", detect_types=sqlite3.PARSE_DECLTYPES)
    try:
        connection.deserialize(image)
        connection.row_factory = sqlite3.Row
        state: dict[str, dict] = {}
        for name, table in catalogue.tables.items():
            try:
                rows = connection.execute(f'SELECT * FROM "{name}"').fetchall()
            except sqlite3.DatabaseError:
                continue
            state[name] = {table.row_key(dict(r)): _typed(dict(r), table) for r in rows}
        return state
    except sqlite3.DatabaseError:
        return {}
    finally:
        connection.close()


def _typed(row: dict, table: object) -> dict:
    import datetime as dt

    for column in getattr(table, "dates", ()):
        value = row.get(column)
        if isinstance(value, str):
            row[column] = dt.date.fromisoformat(value[:10])
    return row
