"""A rating as submitted by a device, and the receipt it gets back."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from pulse.colours import COLOURS
from pulse.schemas.tokens import PresentedToken

URL_SAFE = r"^[A-Za-z0-9_-]+$"


# A rating queued on a phone while offline is sent within a day, or dropped.
MAX_AGE_SECONDS = 24 * 60 * 60


def _token(minimum: int, maximum: int, description: str, *, required: bool = True) -> fields.String:
    optional: dict[str, Any] = {} if required else {"load_default": None}
    return fields.String(
        required=required,
        **optional,
        validate=[
            validate.Length(min=minimum, max=maximum),
            validate.Regexp(URL_SAFE, error="Use only letters, digits, - and _."),
        ],
        metadata={"description": description},
    )


def _idempotency_key(description: str) -> fields.String:
    return fields.String(
        required=True,
        validate=[
            validate.Length(min=8, max=128),
            validate.Regexp(r"^[A-Za-z0-9_.:-]+$", error="Use only letters, digits and - _ . :"),
        ],
        metadata={"description": description},
    )


def _reasons(**options: Any) -> fields.List:
    """Reason tag ids, each at most once (uniqueItems, checked by _ReasonsOnce)."""
    metadata = {**options.pop("metadata", {}), "uniqueItems": True}
    return fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
        metadata=metadata,
        **options,
    )


def _colour() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.OneOf(COLOURS),
        metadata={"description": "How the shift went", "enum": list(COLOURS)},
    )


def _age_seconds() -> fields.Integer:
    return fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, max=MAX_AGE_SECONDS),
        metadata={
            "description": "For a rating queued while offline: how many seconds ago it was tapped. It "
            "decides the shift, which must still be open for rating. Not stored."
        },
    )


class _ReasonsOnce(Schema):
    @validates("reasons")
    def reasons_once_each(self, value: list[int], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("Give each reason once.")


def _device_secret(description: str) -> fields.String:
    return _token(
        22,
        128,
        f"{description} Open mode only (a verified team takes a token instead); required there.",
        required=False,
    )


def _slot_token(description: str) -> PresentedToken:
    return PresentedToken(
        slot=True, load_default=None, metadata={"description": f"{description} Verified mode only."}
    )


def _pseudonym(description: str) -> PresentedToken:
    return PresentedToken(
        slot=False,
        load_default=None,
        metadata={"description": f"{description} Verified mode only; required with `token`."},
    )


PSEUDONYMS = ("week_pseudonym", "day_pseudonym", "orgweek_pseudonym")


class RatingInSchema(_ReasonsOnce):
    join_code = _token(8, 64, "The team's join code, from its poster or link")
    colour = _colour()
    reasons = _reasons(
        load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": "Optional reason tag ids (see /api/v1/reason-tags)"},
    )
    device_secret = _device_secret("The device's random secret (at least 128 bits, URL-safe). Never stored.")
    idempotency_key = _idempotency_key("Unique per rating; a retry with the same key is counted once")
    age_seconds = _age_seconds()
    token = _slot_token("The rating token of the shift being rated (spent once). Never stored.")
    week_pseudonym = _pseudonym("The team-week's contributor pseudonym.")
    day_pseudonym = _pseudonym("The day's pseudonym.")
    orgweek_pseudonym = _pseudonym("The organisation week's pseudonym.")

    @validates_schema
    def secret_or_tokens(self, data: dict[str, Any], **_: Any) -> None:
        """A device secret (open mode) or a token with its three pseudonyms (verified mode), not both."""
        if data.get("token") is not None and data.get("device_secret") is not None:
            raise ValidationError("Send a device secret or a token, not both.", "device_secret")
        if data.get("token") is None:
            extra = [name for name in PSEUDONYMS if data.get(name) is not None]
            if extra:
                raise ValidationError({name: ["Only sent with a token."] for name in extra})
            return
        missing = [name for name in PSEUDONYMS if data.get(name) is None]
        if missing:
            raise ValidationError({name: ["A rating with a token needs this."] for name in missing})


class ReasonsInSchema(_ReasonsOnce):
    join_code = _token(8, 64, "The team's join code, as sent with the rating")
    device_secret = _device_secret("The device's secret, as sent with the rating.")
    token = _slot_token("The rating token, as sent with the rating.")
    idempotency_key = _idempotency_key("The idempotency key of the rating these reasons are for")
    reasons = _reasons(
        required=True,
        validate=validate.Length(min=1, max=10),
        metadata={"description": "Reason tag ids (see /api/v1/reason-tags), each once"},
    )

    @validates_schema
    def secret_or_token(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("token") is not None and data.get("device_secret") is not None:
            raise ValidationError("Send a device secret or a token, not both.", "device_secret")


class ReasonsOutSchema(Schema):
    status = fields.String(metadata={"example": "recorded"})
    reasons = fields.Integer(metadata={"description": "How many reasons were added"})


class KioskRatingInSchema(Schema):
    kiosk_token = _token(16, 64, "The shared tablet's token, from its address")
    colour = _colour()
    idempotency_key = _idempotency_key("Unique per tap; a retry with the same key is counted once")
    age_seconds = _age_seconds()


class RatingOutSchema(Schema):
    status = fields.String(metadata={"example": "recorded"})
    shift_date = fields.Date(metadata={"description": "The date the shift started"})
    shift_band = fields.String(metadata={"example": "Early"})


class KioskRatingOutSchema(RatingOutSchema):
    next_tap_in = fields.Integer(metadata={"description": "Seconds until the tablet takes the next rating"})
