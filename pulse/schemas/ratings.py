"""A rating as submitted by a device, and the receipt it gets back."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from pulse.services.tallies import COLOURS

URL_SAFE = r"^[A-Za-z0-9_-]+$"


class RatingInSchema(Schema):
    join_code = fields.String(
        required=True,
        validate=[
            validate.Length(min=8, max=64),
            validate.Regexp(URL_SAFE, error="Use only letters, digits, - and _."),
        ],
        metadata={"description": "The team's join code, from its poster or link"},
    )
    colour = fields.String(
        required=True,
        validate=validate.OneOf(COLOURS),
        metadata={"description": "How the shift went", "enum": list(COLOURS)},
    )
    reasons = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
        load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": "Optional reason tag ids (see /api/v1/reason-tags)"},
    )
    device_secret = fields.String(
        required=True,
        validate=[
            validate.Length(min=22, max=128),
            validate.Regexp(URL_SAFE, error="Use only letters, digits, - and _."),
        ],
        metadata={"description": "The device's random secret (at least 128 bits, URL-safe). Never stored."},
    )
    idempotency_key = fields.String(
        required=True,
        validate=[
            validate.Length(min=8, max=128),
            validate.Regexp(r"^[A-Za-z0-9_.:-]+$", error="Use only letters, digits and - _ . :"),
        ],
        metadata={"description": "Unique per rating; a retry with the same key is counted once"},
    )

    @validates("reasons")
    def reasons_once_each(self, value: list[int], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("Give each reason once.")


class RatingOutSchema(Schema):
    status = fields.String(metadata={"example": "recorded"})
    shift_date = fields.Date(metadata={"description": "The date the shift started"})
    shift_band = fields.String(metadata={"example": "Early"})
