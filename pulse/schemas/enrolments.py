"""Enrolling a device with a personal enrolment code, and the credential it gets back once."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

# Crockford base32 as people type it: any case, with the hyphens (or spaces) of the printed grouping, and I, L
# or O for 1 and 0. The service reads it (pulse.services.accounts.roster.codes.read_code) and says what is
# wrong.
TYPED_CODE = r"^[0-9A-Za-z -]+$"


class EnrolmentInSchema(Schema):
    code = fields.String(
        required=True,
        validate=[
            validate.Length(min=16, max=40, error="An enrolment code has 16 letters and numbers."),
            validate.Regexp(TYPED_CODE, error="Use only the letters, numbers and hyphens of the code."),
        ],
        metadata={
            "description": "The personal enrolment code, as printed (e.g. 7K3M-Q9TX-2HDA-8WPE); case, spaces "
            "and hyphens do not matter",
            "example": "7K3M-Q9TX-2HDA-8WPE",
        },
    )


class EnrolledTeamSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    department = fields.String(attribute="department.name")


class EnrolmentOutSchema(Schema):
    credential = fields.String(
        metadata={
            "description": "The device's credential for fetching rating tokens (256 random bits). Shown only "
            "now: keep it on the device (the enrolment page keeps it in localStorage as "
            "pulse.device-credential). Pulse keeps only its hash."
        }
    )
    identifier = fields.String(metadata={"description": "Whose device it now is (email or staff number)"})
    teams = fields.List(
        fields.Nested(EnrolledTeamSchema), metadata={"description": "The teams this person may rate for"}
    )
