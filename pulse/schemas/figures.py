"""Published figures as the read API shows them, and the whole-week ranges it accepts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates, validates_schema

MAX_WEEKS = 5 * 53


class WeekRangeSchema(Schema):
    # x-iso-weekday says in the schema itself which day each must be (1 Monday ... 7 Sunday, as ISO 8601):
    # JSON Schema has no keyword for a weekday.
    from_ = fields.Date(
        data_key="from",
        metadata={
            "description": "First day: a Monday (the start of an ISO week). Default: 51 weeks before `to`.",
            "example": "2026-11-09",
            "x-iso-weekday": 1,
        },
    )
    to = fields.Date(
        metadata={
            "description": "Last day: a Sunday (the end of an ISO week). Default: the latest published week.",
            "example": "2026-11-15",
            "x-iso-weekday": 7,
        }
    )

    @validates("from_")
    def starts_a_week(self, value: dt.date, **_: Any) -> None:
        if value.isoweekday() != 1:
            raise ValidationError(
                f"{value} is a {value:%A}; figures come in whole ISO weeks starting on a Monday."
            )

    @validates("to")
    def ends_a_week(self, value: dt.date, **_: Any) -> None:
        if value.isoweekday() != 7:
            raise ValidationError(
                f"{value} is a {value:%A}; figures come in whole ISO weeks ending on a Sunday."
            )

    @validates_schema
    def in_order(self, data: dict[str, Any], **_: Any) -> None:
        first, last = data.get("from_"), data.get("to")
        if first and last:
            if first > last:
                raise ValidationError("`from` must come before `to`.", "from")
            if (last - first).days // 7 + 1 > MAX_WEEKS:
                raise ValidationError(f"Ask for at most {MAX_WEEKS} weeks at a time.", "to")


class FiguresSchema(Schema):
    red = fields.Integer(allow_none=True)
    amber = fields.Integer(allow_none=True)
    green = fields.Integer(allow_none=True)
    ratings = fields.Integer(allow_none=True)
    contributors = fields.Integer(allow_none=True, metadata={"description": "Distinct people who rated"})
    pct_red = fields.Float(allow_none=True)
    pct_amber = fields.Float(allow_none=True)
    pct_green = fields.Float(allow_none=True)
    net_score = fields.Float(allow_none=True, metadata={"description": "% green - % red, -100 to +100"})
    note = fields.String(
        allow_none=True,
        metadata={
            "description": "'not enough ratings to show' where figures are null: hidden and empty alike"
        },
    )


class WeekFiguresSchema(FiguresSchema):
    week_start = fields.Date()
    iso_week = fields.String(metadata={"example": "2026-W47"})
    rating_mode = fields.String(
        metadata={
            "description": "Who could rate that week: 'verified' (only people on a team's roster, once per "
            "shift, with anonymous tokens, the whole week) or 'open' (anyone with a team's link)",
            "enum": ["open", "verified"],
        }
    )


class DepartmentWeeksSchema(Schema):
    department_id = fields.Integer()
    name = fields.String()
    weeks = fields.List(fields.Nested(WeekFiguresSchema))


class TodayFiguresSchema(FiguresSchema):
    shift_date = fields.Date()


class BandFiguresSchema(FiguresSchema):
    band_id = fields.Integer()
    band = fields.String()


class DayFiguresSchema(FiguresSchema):
    shift_date = fields.Date()
    bands = fields.List(fields.Nested(BandFiguresSchema))


class ReasonCountSchema(Schema):
    tag_id = fields.Integer()
    ratings = fields.Integer()


class WeekReasonsSchema(Schema):
    week_start = fields.Date()
    iso_week = fields.String()
    reasons = fields.List(fields.Nested(ReasonCountSchema))


class ExportRowSchema(Schema):
    table = fields.String(
        metadata={
            "description": "figures (colour counts), reasons (tag counts) or today (today-so-far steps)"
        }
    )
    level = fields.String()
    unit_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    period = fields.Date(
        metadata={"description": "the ISO week's Monday, or the shift date for day and shift"}
    )
    tag_id = fields.Integer(allow_none=True)
    red = fields.Integer(allow_none=True)
    amber = fields.Integer(allow_none=True)
    green = fields.Integer(allow_none=True)
    ratings = fields.Integer(allow_none=True)
    contributors = fields.Integer(allow_none=True)
    note = fields.String(
        allow_none=True,
        metadata={
            "description": "'not enough ratings to show' where the figures are null: hidden and empty alike"
        },
    )


EXPORT_COLUMNS = tuple(ExportRowSchema().fields)
