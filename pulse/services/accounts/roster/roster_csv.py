"""The roster as a CSV file of identifier, team and department: import (all-or-nothing, idempotent, with a
replace mode that makes the roster exactly the file) and export in the same format. docs/roster-csv.md
describes the columns and how to reduce an Electronic Staff Record export to them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from marshmallow import ValidationError
from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from pulse.csvfile import write_csv
from pulse.models import Department, StaffMember, Team, User, roster_entry
from pulse.schemas.roster_csv import ROSTER_COLUMNS, RosterRowSchema
from pulse.services.accounts.change_log import record_change
from pulse.services.accounts.roster.identifiers import normalise_identifier
from pulse.services.accounts.roster.staff import team_label
from pulse.services.csv_rows import CsvImportError, RowError, row_errors
from pulse.services.errors import InvalidInput

# The audit log lists each person added or removed up to this many; beyond it, the counts say the rest.
AUDIT_LIST_LIMIT = 200
CHUNK = 500  # rows per statement when deleting many entries (SQLite's limit on parameters)


class RosterImportError(CsvImportError):
    """The file has errors (each with its line and field); nothing was imported."""


@dataclass(frozen=True)
class RosterRow:
    line: int
    identifier: str  # normalised
    team: str | None
    department: str | None


@dataclass(frozen=True)
class RosterImportReport:
    people_created: int
    added: int
    removed: int
    unchanged: int
    inactive: tuple[str, ...]  # deactivated people named in the file (left deactivated)

    def summary(self) -> str:
        text = (
            f"{self.added} added to teams, {self.removed} removed from teams, {self.unchanged} unchanged; "
            f"{self.people_created} new people"
        )
        if self.inactive:
            text += (
                f". {len(self.inactive)} people in the file are deactivated in Pulse and stay so until "
                "reactivated"
            )
        return text


def read_roster_csv(text: str) -> list[RosterRow]:
    """Parse and check every row; raise RosterImportError listing every bad row (line and field)."""
    reader = csv.DictReader(io.StringIO(text))
    fieldnames = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if "identifier" not in fieldnames:
        raise RosterImportError([RowError(1, "header", "missing column: identifier")])
    unknown = sorted(set(fieldnames) - set(ROSTER_COLUMNS))
    if unknown:
        message = (
            f"unknown column(s): {', '.join(unknown)}; Pulse takes only {', '.join(ROSTER_COLUMNS)}, so "
            "leave names and other personal details out of the file"
        )
        raise RosterImportError([RowError(1, "header", message)])
    reader.fieldnames = fieldnames
    schema = RosterRowSchema()
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    for raw in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue
        try:
            data = schema.load(raw)
            rows.append(
                RosterRow(line, normalise_identifier(data["identifier"]), data["team"], data["department"])
            )
        except ValidationError as exc:
            errors.extend(row_errors(line, exc.messages))
        except InvalidInput as exc:
            errors.append(RowError(line, exc.field or "identifier", str(exc)))
    if errors:
        raise RosterImportError(errors)
    return rows


def _resolve_teams(session: Session, rows: list[RosterRow], only: Team | None) -> dict[int, int]:
    """{line: team id} for every row, or RosterImportError naming each row whose team is unknown, ambiguous,
    or (for one team's import) another team."""
    by_name: dict[str, list[Team]] = defaultdict(list)
    for team in session.scalars(select(Team).join(Department)):
        by_name[team.name.casefold()].append(team)
    found: dict[int, int] = {}
    errors: list[RowError] = []
    for row in rows:
        if only is not None and row.team is None:
            if row.department is not None and row.department.casefold() != only.department.name.casefold():
                errors.append(RowError(row.line, "department", f"this file is for {team_label(only)}"))
            found[row.line] = only.id
            continue
        if row.team is None:
            errors.append(RowError(row.line, "team", "give the team's name"))
            continue
        candidates = by_name.get(row.team.casefold(), [])
        if row.department is not None:
            candidates = [t for t in candidates if t.department.name.casefold() == row.department.casefold()]
        if only is not None and candidates and only not in candidates:
            errors.append(RowError(row.line, "team", f"this file is for {team_label(only)}"))
        elif not candidates:
            where = f" in {row.department}" if row.department else ""
            errors.append(RowError(row.line, "team", f"no team named {row.team!r}{where}"))
        elif len(candidates) > 1 and only is None:
            departments = ", ".join(sorted(t.department.name for t in candidates))
            errors.append(
                RowError(
                    row.line, "department", f"several teams are named {row.team!r}: say which ({departments})"
                )
            )
        else:
            found[row.line] = only.id if only is not None else candidates[0].id
    if errors:
        raise RosterImportError(errors)
    return found


def import_roster(
    session: Session,
    actor: User | None,
    rows: list[RosterRow],
    *,
    today: dt.date,
    replace: bool = False,
    team: Team | None = None,
    source: str = "roster.csv",
) -> RosterImportReport:
    """Put each row's person on its team, making new people (active) as needed. Everything is checked before
    anything changes, and importing the same file again changes nothing.

    `replace`: the roster becomes exactly the file, so people not in it are taken off their teams (with
    `team`, off that team only; without, off every team). `team`: a file for that one team, whose rows may
    leave out the team and department. Deactivated people stay deactivated. One audit entry records it.
    """
    team_of_line = _resolve_teams(session, rows, team)
    people = {p.identifier: p for p in session.scalars(select(StaffMember))}
    new_people = [
        StaffMember(identifier=identifier, active=True, created_on=today)
        for identifier in dict.fromkeys(row.identifier for row in rows)
        if identifier not in people
    ]
    session.add_all(new_people)
    session.flush()
    people.update((p.identifier, p) for p in new_people)

    wanted = {(people[row.identifier].id, team_of_line[row.line]) for row in rows}
    scope = select(roster_entry.c.staff_member_id, roster_entry.c.team_id)
    if team is not None:
        scope = scope.where(roster_entry.c.team_id == team.id)
    elif not replace:
        scope = scope.where(roster_entry.c.team_id.in_({team_id for _, team_id in wanted}))
    existing: set[tuple[int, int]] = {(p, t) for p, t in session.execute(scope)}
    to_add = sorted(wanted - existing)
    to_remove = sorted(existing - wanted) if replace else []
    if to_add:
        session.execute(insert(roster_entry), [{"staff_member_id": p, "team_id": t} for p, t in to_add])
    for start in range(0, len(to_remove), CHUNK):
        pairs = to_remove[start : start + CHUNK]
        session.execute(
            delete(roster_entry).where(
                tuple_(roster_entry.c.staff_member_id, roster_entry.c.team_id).in_(pairs)
            )
        )
    session.expire_all()

    report = RosterImportReport(
        people_created=len(new_people),
        added=len(to_add),
        removed=len(to_remove),
        unchanged=len(wanted & existing),
        inactive=tuple(sorted({row.identifier for row in rows if not people[row.identifier].active})),
    )
    _audit_import(session, actor, report, to_add, to_remove, replace=replace, team=team, source=source)
    return report


def _audit_import(
    session: Session,
    actor: User | None,
    report: RosterImportReport,
    added: list[tuple[int, int]],
    removed: list[tuple[int, int]],
    *,
    replace: bool,
    team: Team | None,
    source: str,
) -> None:
    if not (added or removed or report.people_created):
        return
    identifiers = dict(session.execute(select(StaffMember.id, StaffMember.identifier)).all())
    teams = {t.id: team_label(t) for t in session.scalars(select(Team).join(Department))}

    def listed(pairs: list[tuple[int, int]]) -> list[str]:
        return [f"{identifiers[p]}: {teams[t]}" for p, t in pairs[:AUDIT_LIST_LIMIT]]

    record_change(
        session,
        actor,
        "roster.import",
        source,
        mode="replace" if replace else "add",
        team=team_label(team) if team is not None else "all teams",
        people_created=report.people_created,
        added=report.added,
        removed=report.removed,
        added_entries=listed(added),
        removed_entries=listed(removed),
    )


def export_roster(session: Session, teams: Iterable[Team] | None = None) -> str:
    """The roster (of `teams`, or every team) in the import format; importing it again changes nothing.
    Names are written so that no spreadsheet runs them (pulse.csvfile); the import reads them back."""
    stmt = (
        select(StaffMember.identifier, Team.name.label("team"), Department.name.label("department"))
        .join(roster_entry, roster_entry.c.staff_member_id == StaffMember.id)
        .join(Team, Team.id == roster_entry.c.team_id)
        .join(Department, Department.id == Team.department_id)
        .order_by(Department.name, Team.name, StaffMember.identifier)
    )
    if teams is not None:
        stmt = stmt.where(Team.id.in_([team.id for team in teams]))
    return write_csv((dict(row) for row in session.execute(stmt).mappings()), ROSTER_COLUMNS)
