"""Validation of one row of a structure CSV file (departments, teams, shift bands, reason tags)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from pulse.schemas.csv_row import CsvRowSchema
from pulse.schemas.text import PLAIN_TEXT

KINDS = ("department", "team", "band", "tag")
CSV_COLUMNS = ("kind", "name", "department", "headcount", "active", "start", "end")
TEXT_COLUMNS = ("name", "department")


class StructureRowSchema(CsvRowSchema):
    CASE_INSENSITIVE = ("kind", "active")
    TEXT_COLUMNS = TEXT_COLUMNS

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name = fields.String(required=True, validate=[validate.Length(min=1, max=120), PLAIN_TEXT])
    department = fields.String(load_default=None, validate=[validate.Length(min=1, max=120), PLAIN_TEXT])
    headcount = fields.Integer(load_default=None, strict=False, validate=validate.Range(min=0, max=100_000))
    active = fields.Boolean(
        load_default=True,
        truthy={"yes", "y", "true", "1"},
        falsy={"no", "n", "false", "0"},
    )
    start = fields.Time(load_default=None, format="%H:%M")
    end = fields.Time(load_default=None, format="%H:%M")

    @validates_schema
    def check_kind_fields(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("kind")
        if kind == "team":
            if not data.get("department"):
                raise ValidationError("A team needs its department.", "department")
            if data.get("headcount") is None:
                raise ValidationError(
                    "A team needs its headcount (the number of staff in the team).", "headcount"
                )
        if kind == "band":
            for end in ("start", "end"):
                if data.get(end) is None:
                    raise ValidationError(f"A shift band needs its {end} time as HH:MM.", end)
            if data["start"] == data["end"]:
                raise ValidationError("A shift band cannot start and end at the same time.", "end")
