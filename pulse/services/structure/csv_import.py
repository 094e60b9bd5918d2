"""Import and export of the organisation structure as one CSV file: idempotent and all-or-nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.csvfile import write_csv
from pulse.models import Department, ReasonTag, ShiftBand, Team
from pulse.schemas.structure_csv import CSV_COLUMNS, StructureRowSchema
from pulse.services.accounts.roster.headcount import team_headcounts
from pulse.services.csv_rows import CsvImportError, RowError, row_errors
from pulse.services.structure.units import new_join_code, set_active


class StructureImportError(CsvImportError):
    """The structure file has errors; nothing was imported."""


@dataclass
class ImportReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        parts = []
        for kind in ("department", "team", "band", "tag"):
            parts.append(
                f"{kind}s: {self.created[kind]} created, {self.updated[kind]} updated, "
                f"{self.unchanged[kind]} unchanged"
            )
        return "; ".join(parts)


def read_structure_csv(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Parse and validate every row; raise StructureImportError listing every bad row."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"kind", "name"} - set(reader.fieldnames or [])
    if missing:
        raise StructureImportError(
            [RowError(1, "header", f"missing column(s): {', '.join(sorted(missing))}")]
        )
    unknown = set(reader.fieldnames or []) - set(CSV_COLUMNS)
    if unknown:
        raise StructureImportError(
            [
                RowError(
                    1,
                    "header",
                    f"unknown column(s): {', '.join(sorted(unknown))}; expected {', '.join(CSV_COLUMNS)}",
                )
            ]
        )
    schema = StructureRowSchema()
    rows, errors = [], []
    for raw in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue
        try:
            rows.append((line, schema.load(raw)))
        except ValidationError as exc:
            errors.extend(row_errors(line, exc.messages))
    if errors:
        raise StructureImportError(errors)
    return rows


def import_structure(
    session: Session, rows: list[tuple[int, dict[str, Any]]], *, today: dt.date
) -> ImportReport:
    """Create or update units from validated rows. Checks every row before changing anything. `today` dates
    the retirement of a team or band the file makes inactive (structure.set_active)."""
    errors: list[RowError] = []
    seen: dict[tuple[str, ...], int] = {}
    file_departments = {r["name"] for _, r in rows if r["kind"] == "department"}
    departments = {d.name: d for d in session.scalars(select(Department))}
    for line, row in rows:
        key = _row_key(row)
        if key in seen:
            errors.append(RowError(line, "name", f"repeats line {seen[key]}"))
        seen[key] = line
        if (
            row["kind"] == "team"
            and row["department"] not in departments
            and row["department"] not in file_departments
        ):
            errors.append(RowError(line, "department", f"no department named {row['department']!r}"))
    if errors:
        raise StructureImportError(errors)

    report = ImportReport()
    for kind in ("department", "tag", "band", "team"):  # departments before the teams that need them
        for _, row in (r for r in rows if r[1]["kind"] == kind):
            _apply_row(session, row, departments, report, today)
    session.flush()
    return report


def _row_key(row: dict[str, Any]) -> tuple[str, ...]:
    if row["kind"] == "team":
        return ("team", row["department"], row["name"])
    return (row["kind"], row["name"])


def _apply_row(
    session: Session,
    row: dict[str, Any],
    departments: dict[str, Department],
    report: ImportReport,
    today: dt.date,
) -> None:
    kind, name = row["kind"], row["name"]
    if kind == "department":
        department = departments.get(name)
        if department is None:
            departments[name] = Department(name=name, active=row["active"])
            session.add(departments[name])
            report.created[kind] += 1
        else:
            _update(department, {"active": row["active"]}, kind, report)
    elif kind == "team":
        department = departments[row["department"]]
        team = (
            session.scalar(select(Team).where(Team.department_id == department.id, Team.name == name))
            if department.id
            else None
        )
        if team is None:
            session.add(
                Team(
                    department=department,
                    name=name,
                    headcount=row["headcount"],
                    active=row["active"],
                    join_code=new_join_code(),
                )
            )
            report.created[kind] += 1
        else:
            _update(team, {"headcount": row["headcount"], "active": row["active"]}, kind, report, today)
    elif kind == "band":
        band = session.scalar(select(ShiftBand).where(ShiftBand.name == name))
        if band is None:
            session.add(
                ShiftBand(name=name, start_time=row["start"], end_time=row["end"], active=row["active"])
            )
            report.created[kind] += 1
        else:
            _update(
                band,
                {"start_time": row["start"], "end_time": row["end"], "active": row["active"]},
                kind,
                report,
                today,
            )
    else:
        tag = session.scalar(select(ReasonTag).where(ReasonTag.label == name))
        if tag is None:
            session.add(ReasonTag(label=name, active=row["active"]))
            report.created[kind] += 1
        else:
            _update(tag, {"active": row["active"]}, kind, report)


def _update(
    obj: Any, values: dict[str, Any], kind: str, report: ImportReport, today: dt.date | None = None
) -> None:
    changed = False
    for attr, value in values.items():
        if getattr(obj, attr) != value:
            if attr == "active" and isinstance(obj, Team | ShiftBand):
                assert today is not None
                set_active(obj, value, today)
            else:
                setattr(obj, attr, value)
            changed = True
    (report.updated if changed else report.unchanged)[kind] += 1


def export_structure(session: Session) -> str:
    """The whole structure in the import format; importing it again changes nothing (in verified mode, it sets
    each team's typed headcount to its roster size, the headcount it exports)."""
    yes = {True: "yes", False: "no"}
    rows: list[dict[str, Any]] = []
    for d in session.scalars(select(Department).order_by(Department.name)):
        rows.append({"kind": "department", "name": d.name, "active": yes[d.active]})
    for b in session.scalars(select(ShiftBand).order_by(ShiftBand.start_time)):
        rows.append(
            {
                "kind": "band",
                "name": b.name,
                "active": yes[b.active],
                "start": b.start_time.strftime("%H:%M"),
                "end": b.end_time.strftime("%H:%M"),
            }
        )
    for g in session.scalars(select(ReasonTag).order_by(ReasonTag.label)):
        rows.append({"kind": "tag", "name": g.label, "active": yes[g.active]})
    teams = session.scalars(select(Team).join(Department).order_by(Department.name, Team.name)).all()
    headcounts = team_headcounts(session, teams)  # the roster size in verified mode
    rows += (
        {
            "kind": "team",
            "name": t.name,
            "department": t.department.name,
            "headcount": headcounts[t.id],
            "active": yes[t.active],
        }
        for t in teams
    )
    return write_csv(rows, CSV_COLUMNS)
