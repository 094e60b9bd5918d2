"""From a history of transactions to ratings: only what follows for certain, never a guess.

Attacks that see transactions (WAL commits, row versions with their xmin) hand them here as row changes.
Where a change's before and after are both known, it is a delta: a tally row that grew by one red was
given one red rating in that transaction. Where only the after is known (a row's current xmin), the row was
merely touched. Then, per transaction:

- per colour: if one team row grew in that colour, every shift row that grew in it took those ratings from
  that team (and the other way round): team, date, band and colour;
- with no deltas to go on: if one team row and one shift (tally or receipt) were touched, they were one
  rating's, or every rating's in the transaction: team, date and band;
- reason tags that grew with a transaction of one rating are that rating's; tags added on their own, beside
  one receipt that was touched, are that receipt's shift's.

Each claim carries the transaction's place in the history as its order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from tests.privacy.catalogue import COLOURS, Catalogue, Kind, Table
from tests.privacy.reconstruction import Recovered, week_of


@dataclass(frozen=True)
class Change:
    table: Table
    before: dict | None  # None: the row did not exist (or, with known=False, is not known)
    after: dict | None  # None: deleted
    known: bool = True  # False: only that the transaction wrote the row


@dataclass
class Transaction:
    order: float
    changes: list[Change] = field(default_factory=list)


def _counts(row: dict | None, table: Table) -> list[int]:
    return [int(row[c]) if row is not None and row.get(c) is not None else 0 for c in table.colours]


def _week(value: object) -> dt.date:
    assert isinstance(value, dt.date)
    return week_of(value)


def infer(transactions: Iterable[Transaction]) -> list[Recovered]:
    claims: list[Recovered] = []
    for txn in transactions:
        claims.extend(_infer_one(txn))
    return claims


def _infer_one(txn: Transaction) -> list[Recovered]:
    teams: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    shifts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    tags: dict[tuple, set[int]] = defaultdict(set)
    touched_teams: set[tuple] = set()
    touched_shifts: set[tuple] = set()
    marks: set[tuple] = set()
    direct: list[Recovered] = []
    for change in txn.changes:
        table, row = change.table, change.after or change.before
        assert row is not None
        kind = table.kind
        if kind == Kind.LINK and change.after is not None:
            day = change.after[table.day]
            direct.append(
                Recovered(team=change.after[table.team], shift_date=day, band=change.after[table.band])
            )
        elif kind in (Kind.TEAM_TALLY, Kind.SHIFT_TALLY):
            if kind == Kind.TEAM_TALLY:
                key, grown, touched = (row[table.team], _week(row[table.day])), teams, touched_teams
            else:
                key, grown, touched = (row[table.day], row[table.band]), shifts, touched_shifts
            if change.known:
                old, new = _counts(change.before, table), _counts(change.after, table)
                grown[key] = [x + b - a for x, a, b in zip(grown[key], old, new, strict=True)]
            else:
                touched.add(key)
        elif kind == Kind.REASON_TALLY and change.after is not None:
            count = next((c for c in table.integers if c not in table.key), None)
            before = int(change.before[count]) if change.known and change.before and count else 0
            after = int(change.after[count]) if count else 1
            if not change.known or after > before:
                tags[(row[table.team], _week(row[table.day]) if table.day else None)].add(row[table.tag])
        elif kind == Kind.SHIFT_MARK and change.after is not None:
            marks.add((change.after[table.day], change.after[table.band]))

    teams = {k: v for k, v in teams.items() if any(v)}
    shifts = {k: v for k, v in shifts.items() if any(v)}
    claims = list(direct)
    garbage = any(x < 0 for v in (*teams.values(), *shifts.values()) for x in v)
    if not garbage and (teams or shifts):
        for i, colour in enumerate(COLOURS):
            grew = [(k, v[i]) for k, v in teams.items() if v[i] > 0]
            where = [(k, v[i]) for k, v in shifts.items() if v[i] > 0]
            if sum(n for _, n in grew) != sum(n for _, n in where) or not grew:
                continue  # the transaction's writes are not all here: say nothing
            if len(grew) == 1:
                (team, week), _ = grew[0]
                for (day, band), n in where:
                    claims += [
                        Recovered(team=team, shift_date=day, band=band, colour=colour, order=txn.order)
                    ] * n
            elif len(where) == 1:
                (day, band), _ = where[0]
                for (team, _week_start), n in grew:
                    claims += [
                        Recovered(team=team, shift_date=day, band=band, colour=colour, order=txn.order)
                    ] * n
        for (team, week), v in teams.items():
            if not any(c.team == team for c in claims):  # no shift to go with it: the colour and the order
                for i, colour in enumerate(COLOURS):
                    claims += [Recovered(team=team, week=week, colour=colour, order=txn.order)] * v[i]
        one_rating = len(claims) == 1 and sum(sum(v) for v in teams.values()) == 1
        if one_rating and tags:
            [(team, _)] = [k for k in teams]
            named = frozenset(tags.get((team, claims[0].week or _week(claims[0].shift_date)), set()))
            if named:
                claims[0] = replace(claims[0], reasons=named)
        return claims

    every_team = touched_teams | set(teams)
    every_shift = touched_shifts | set(shifts) | marks
    if len(every_team) == 1 and len(every_shift) == 1:
        [(team, week)] = every_team
        [(day, band)] = every_shift
        if week_of(day) == week:
            claims.append(Recovered(team=team, shift_date=day, band=band, order=txn.order))
    elif not every_team and len(tags) == 1 and len(marks) == 1:  # reasons added after the rating
        [((team, week), tag_ids)] = tags.items()
        [(day, band)] = marks
        if week is None or week_of(day) == week:
            claims.append(
                Recovered(team=team, shift_date=day, band=band, reasons=frozenset(tag_ids), order=txn.order)
            )
    return claims


def changes_between(catalogue: Catalogue, before: dict[str, dict], after: dict[str, dict]) -> list[Change]:
    """The row changes from one full state of the tables to the next: {table: {row key: row}} each."""
    changes = []
    for name, table in catalogue.tables.items():
        old, new = before.get(name, {}), after.get(name, {})
        for key in old.keys() | new.keys():
            if old.get(key) != new.get(key):
                changes.append(Change(table, old.get(key), new.get(key)))
    return changes
