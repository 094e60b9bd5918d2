"""Attacks on storage by level (docs/anonymity.md A10-A12); each returns the ratings it rebuilt (`Recovered`).

Level A (the application's database credentials): plain SELECTs, system columns included.
Level B (logical dumps): the text of `pg_dump` or of SQLite's `.dump`.
Level C (raw files): SQLite's WAL replayed from a copy; PostgreSQL's heap pages carved for dead versions.
"""

from __future__ import annotations

import datetime as dt
import hmac
import sqlite3
import subprocess
from collections import defaultdict
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from pulse.services.rating.keys import digest
from tests.privacy import postgres_pages, sqlite_files
from tests.privacy.catalogue import Catalogue, Kind, Table

__all__ = ["Catalogue"]
from tests.privacy.inference import Change, Transaction, changes_between, infer
from tests.privacy.reconstruction import Recovered

Rows = dict[str, list[dict]]  # table -> rows, in the order the source gives them
XMIN = "xmin()"  # PostgreSQL's system column, under a name no table's column can have
POSITION = "position()"  # where the row lies: SQLite's rowid, PostgreSQL's ctid
PSEUDO = (XMIN, POSITION)


# --- level A ---


def select_everything(engine: Engine, catalogue: Catalogue) -> Rows:
    """Every row of every table, as the application's role may read it, in physical order (ctid or rowid),
    with PostgreSQL's xmin."""
    rows: Rows = {}
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        for name in catalogue.tables:
            if postgres:
                sql = (
                    f'SELECT CAST(CAST(xmin AS text) AS bigint) AS "{XMIN}", '
                    f'CAST(ctid AS text) AS "{POSITION}", * FROM "{name}" ORDER BY ctid'
                )
            else:
                sql = f'SELECT rowid AS "{POSITION}", * FROM "{name}" ORDER BY rowid'
            try:
                result = connection.execute(text(sql))
            except Exception:
                connection.rollback()
                continue
            rows[name] = [_typed(dict(r._mapping), catalogue.tables[name]) for r in result]
    return rows


def _position(row: dict, index: int) -> float:
    """A row's place: its rowid or ctid where the source has one (stable from one look to the next), else
    its place in the source's order."""
    value = row.get(POSITION)
    if value is None:
        return index
    if isinstance(value, str):  # a ctid, "(block,offset)"
        block, offset = value.strip("()").split(",")
        return int(block) * 10_000 + int(offset)
    return float(value)


def _plain(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in PSEUDO}


def state(rows: Rows, catalogue: Catalogue) -> dict[str, dict]:
    """The rows as {table: {row key: row}}, for comparing one look with the next."""
    return {
        name: {catalogue.tables[name].row_key(r): _plain(r) for r in table_rows}
        for name, table_rows in rows.items()
    }


def polling(states: list[dict[str, dict]], catalogue: Catalogue) -> list[Recovered]:
    """One look after another: what changed in between, worked back to ratings."""
    txns = [
        Transaction(i, changes_between(catalogue, states[i - 1], states[i])) for i in range(1, len(states))
    ]
    return infer(txns)


def matching_xmin(rows: Rows, catalogue: Catalogue) -> list[Recovered]:
    """Rows written by one transaction share an xmin: a team's tally row, a shift's and a receipt's."""
    txns: dict[int, Transaction] = {}
    for name, table_rows in rows.items():
        table = catalogue.tables[name]
        if table.kind in (Kind.KEYS, Kind.DIGESTS, Kind.OTHER):
            continue
        for row in table_rows:
            txn = txns.setdefault(row[XMIN], Transaction(row[XMIN]))
            txn.changes.append(Change(table, None, _plain(row), known=False))
    return infer(txns[x] for x in sorted(txns))


def physical_order(rows: Rows, catalogue: Catalogue) -> list[Recovered]:
    """Per-rating rows that carry a shift (receipts), in the order the source keeps them: arrival order."""
    claims = []
    for name, table_rows in rows.items():
        table = catalogue.tables[name]
        if table.kind not in (Kind.SHIFT_MARK, Kind.LINK):
            continue
        for index, row in enumerate(table_rows):
            claims.append(
                Recovered(
                    team=row.get(table.team) if table.team else None,
                    shift_date=row[table.day],
                    band=row[table.band],
                    order=_position(row, index),
                )
            )
    return claims


def stored_keys(rows: Rows, catalogue: Catalogue) -> list[Recovered]:
    """Digests decoded with the keys stored beside them (a kiosk's tally: team, shift, taps), and any row
    that names a team and a shift outright."""
    teams = sorted({r["id"] for r in rows.get("team", [])})
    bands = sorted({r["id"] for r in rows.get("shift_band", [])})
    keys = {}
    for table in catalogue.of_kind(Kind.KEYS):
        for row in rows.get(table.name, []):
            keys[row.get("id")] = (bytes(row["secret"]), row[table.day])
    claims: list[Recovered] = []
    for table in catalogue.of_kind(Kind.LINK):
        claims += [
            Recovered(team=r[table.team], shift_date=r[table.day], band=r[table.band])
            for r in rows[table.name]
        ]
    for table in catalogue.of_kind(Kind.DIGESTS):
        count = "taps" if "taps" in table.columns else None
        for row in rows.get(table.name, []):
            key = keys.get(row[table.key_ref])
            if key is None:
                continue
            secret, start = key
            value = bytes(row[table.binary[0]])
            for day in (start + dt.timedelta(days=n) for n in range(7)):
                for team in teams:
                    for band in bands:
                        # The kiosk's receipt before issue 17, and a team-shift's counter after it, each
                        # tried under the key as stored (the database's credentials do not give the pepper).
                        counter = f"counter|{team}|{day.isoformat()}|{band}".encode()
                        if value in (
                            digest(secret, "kiosk", team, day, band),
                            hmac.digest(secret, counter, "sha256"),
                        ):
                            taps = int(row[count]) if count else 1
                            claims += [Recovered(team=team, shift_date=day, band=band)] * taps
    return claims


# --- level B ---


def pg_dump_rows(url: str, catalogue: Catalogue) -> Rows:
    """The tables of a plain `pg_dump`, row by row in the dump's order."""
    target = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run(
        ["pg_dump", "--format=plain", "--data-only", target],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    rows: Rows = {}
    lines = iter(dump.splitlines())
    for line in lines:
        if not line.startswith("COPY "):
            continue
        name = line.split()[1].split(".")[-1].strip('"')
        columns = [c.strip().strip('"') for c in line[line.index("(") + 1 : line.index(")")].split(",")]
        table = catalogue.tables.get(name)
        body = []
        for data in lines:
            if data == "\\.":
                break
            body.append(data)
        if table is None:
            continue
        rows[name] = [_copy_row(table, columns, data) for data in body]
    return rows


def _copy_row(table: Table, columns: list[str], line: str) -> dict:
    row: dict = {}
    for column, raw in zip(columns, line.split("\t"), strict=True):
        if raw == "\\N":
            row[column] = None
        elif column in table.binary:
            row[column] = bytes.fromhex(raw.removeprefix("\\\\x"))
        elif column in table.dates:
            row[column] = dt.date.fromisoformat(raw)
        elif column in table.integers:
            row[column] = int(raw)
        else:
            row[column] = raw
    return row


def sqlite_dump_rows(database: Path, catalogue: Catalogue) -> Rows:
    """The tables of SQLite's `.dump` (Python's iterdump), loaded back, each in the dump's order."""
    source = sqlite3.connect(database)
    try:
        dump = "\n".join(source.iterdump())
    finally:
        source.close()
    copy = sqlite3.connect(":memory:")
    copy.row_factory = sqlite3.Row
    try:
        copy.executescript(dump)
        rows: Rows = {}
        for name, table in catalogue.tables.items():
            found = copy.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
            rows[name] = [_typed(dict(r), table) for r in found]
        return rows
    finally:
        copy.close()


def _typed(row: dict, table: Table) -> dict:
    for column in table.dates:
        if isinstance(row.get(column), str):
            row[column] = dt.date.fromisoformat(row[column][:10])
    return row


# --- level C ---


def wal_replay(main: Path, wal: Path, catalogue: Catalogue) -> tuple[list[Recovered], int]:
    """Each transaction in a copy of the WAL, as the change it made to the tables. Returns the ratings
    rebuilt and how many transactions the log held."""
    txns = []
    previous: dict | None = None
    for position, image in enumerate(sqlite_files.snapshots(main, wal)):
        state = sqlite_files.read_tables(image, catalogue)
        if not state:
            continue
        if previous is not None:
            txns.append(Transaction(position, changes_between(catalogue, previous, state)))
        previous = state
    return infer(txns), len(txns)


def dead_tuples(engine: Engine, catalogue: Catalogue) -> tuple[list[Recovered], int]:
    """Every tuple version in the tally and receipt tables' pages, as transactions by their xmin. Returns the
    ratings rebuilt and how many versions the pages held."""
    with engine.connect() as connection:
        versions = postgres_pages.carve_versions(connection, catalogue)
        connection.commit()
    return infer(postgres_pages.transactions(versions)), len(versions)


def by_kind(rows: Rows, catalogue: Catalogue) -> dict[Kind, int]:
    counts: dict[Kind, int] = defaultdict(int)
    for name, table_rows in rows.items():
        counts[catalogue.tables[name].kind] += len(table_rows)
    return dict(counts)


class Looks:
    """What repeated looks at the rows found: digests decoded with stored keys, and rows in stored order."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.keys: list[Recovered] = []
        self.order: list[Recovered] = []

    def look(self, rows: Rows) -> None:
        self.keys += stored_keys(rows, self.catalogue)
        self.order += physical_order(rows, self.catalogue)
