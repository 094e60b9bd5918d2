"""The organisation structure as the read API shows it. Join codes are never listed."""

from marshmallow import Schema, fields, validate

# Ids are the database's 32-bit integers: a larger one names nothing (and must never reach a query).
MAX_ID = 2**31 - 1
# The URL converter for an id in a path: anything else is a plain 404, documented as such.
ID_IN_PATH = f"int(min=1, max={MAX_ID})"


class TeamSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    department_id = fields.Integer()
    headcount = fields.Integer(
        metadata={
            "description": "Number of staff in the team: as configured in open rating, the number of active "
            "people on its roster in verified rating"
        }
    )
    active = fields.Boolean()


class TeamSummarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    headcount = fields.Integer()


class DepartmentSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    active = fields.Boolean()
    teams = fields.List(fields.Nested(TeamSummarySchema), metadata={"description": "Its active teams"})


class TeamQuerySchema(Schema):
    department_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class ShiftBandSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    start = fields.Time(attribute="start_time", format="%H:%M")
    end = fields.Time(attribute="end_time", format="%H:%M")


class ReasonTagSchema(Schema):
    id = fields.Integer()
    label = fields.String()
