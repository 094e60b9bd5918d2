"""Validation of one row of a roster CSV file: a person's identifier, and the team they are on."""

from __future__ import annotations

from marshmallow import fields, validate

from pulse.schemas.csv_row import CsvRowSchema
from pulse.schemas.plain_text import PlainText

ROSTER_COLUMNS = ("identifier", "team", "department")
NAME = [validate.Length(min=1, max=120, error="Use 1 to 120 characters."), PlainText()]


class RosterRowSchema(CsvRowSchema):
    TEXT_COLUMNS = ROSTER_COLUMNS
    # Normalised and checked further by pulse.services.accounts.roster.identifiers, which names what is wrong.
    identifier = fields.String(
        required=True,
        validate=validate.Length(min=1, max=254, error="Use 1 to 254 characters."),
        error_messages={"required": "Give the person's email address or staff number."},
    )
    team = fields.String(load_default=None, validate=NAME)
    department = fields.String(load_default=None, validate=NAME)
