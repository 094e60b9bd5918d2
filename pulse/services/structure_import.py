"""Import and export of the organisation structure as one CSV file: idempotent and all-or-nothing."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import Department, ReasonTag, ShiftBand, Team
from pulse.schemas.structure_csv import CSV_COLUMNS, StructureRowSchema
from pulse.services.structure import new_join_code


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class StructureImportError(Exception):
    """The file has errors; nothing was imported."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s); nothing was imported")
        self.errors = errors


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
            errors.extend(_row_errors(line, exc.messages))
    if errors:
        raise StructureImportError(errors)
    return rows


def _row_errors(line: int, messages: Any) -> list[RowError]:
    if isinstance(messages, dict):
        return [
            RowError(line, str(f), " ".join(map(str, m)) if isinstance(m, list) else str(m))
            for f, m in messages.items()
        ]
    return [RowError(line, "row", str(messages))]


def import_structure(session: Session, rows: list[tuple[int, dict[str, Any]]]) -> ImportReport:
    """Create or update units from validated rows. Checks every row before changing anything."""
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
            _apply_row(session, row, departments, report)
    session.flush()
    return report


def _row_key(row: dict[str, Any]) -> tuple[str, ...]:
    if row["kind"] == "team":
        return ("team", row["department"], row["name"])
    return (row["kind"], row["name"])


def _apply_row(
    session: Session, row: dict[str, Any], departments: dict[str, Department], report: ImportReport
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
            _update(team, {"headcount": row["headcount"], "active": row["active"]}, kind, report)
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
            )
    else:
        tag = session.scalar(select(ReasonTag).where(ReasonTag.label == name))
        if tag is None:
            session.add(ReasonTag(label=name, active=row["active"]))
            report.created[kind] += 1
        else:
            _update(tag, {"active": row["active"]}, kind, report)


def _update(obj: Any, values: dict[str, Any], kind: str, report: ImportReport) -> None:
    changed = False
    for attr, value in values.items():
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)
            changed = True
    (report.updated if changed else report.unchanged)[kind] += 1


def export_structure(session: Session) -> str:
    """The whole structure in the import format; importing it again changes nothing."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    yes = {True: "yes", False: "no"}
    rows: Iterable[dict[str, Any]]
    for d in session.scalars(select(Department).order_by(Department.name)):
        writer.writerow({"kind": "department", "name": d.name, "active": yes[d.active]})
    for b in session.scalars(select(ShiftBand).order_by(ShiftBand.start_time)):
        writer.writerow(
            {
                "kind": "band",
                "name": b.name,
                "active": yes[b.active],
                "start": b.start_time.strftime("%H:%M"),
                "end": b.end_time.strftime("%H:%M"),
            }
        )
    for g in session.scalars(select(ReasonTag).order_by(ReasonTag.label)):
        writer.writerow({"kind": "tag", "name": g.label, "active": yes[g.active]})
    rows = (
        {
            "kind": "team",
            "name": t.name,
            "department": t.department.name,
            "headcount": t.headcount,
            "active": yes[t.active],
        }
        for t in session.scalars(select(Team).join(Department).order_by(Department.name, Team.name))
    )
    writer.writerows(rows)
    return out.getvalue()
