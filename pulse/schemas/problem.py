"""The one error shape: RFC 9457 problem details, with errors per field."""

from marshmallow import Schema, fields


class OpenSlotSchema(Schema):
    shift_date = fields.Date()
    band_id = fields.Integer()
    band = fields.String()


class ProblemSchema(Schema):
    type = fields.String(
        metadata={"description": "A URI naming the kind of problem", "example": "about:blank"}
    )
    title = fields.String(metadata={"description": "A short summary of the kind of problem"})
    status = fields.Integer(metadata={"description": "The HTTP status code"})
    detail = fields.String(metadata={"description": "What went wrong this time, in plain English"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": 'Messages per input field, e.g. {"colour": ["Must be one of: red, amber, green."]}'
        },
    )
    retry_after = fields.Integer(
        metadata={
            "description": "For a kiosk tap that came too soon, or a client over the rating rate limit: "
            "seconds until the next request is taken"
        }
    )
    enrol_url = fields.String(
        metadata={
            "description": "Verified rating, enrolment-needed: where to enrol this phone",
            "example": "/enrol",
        }
    )
    open_slot = fields.Nested(
        OpenSlotSchema,
        metadata={
            "description": "Verified rating, wrong-slot: the shift open for rating now, to rate instead"
        },
    )
