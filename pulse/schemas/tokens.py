"""Anonymous tokens on the wire: the published keys, token requests and answers, and tokens as a rating
presents them. Every byte string is base64url without padding (docs/verified-rating.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from pulse.services.tokens import EVALUATION_SIZE, NONCE_SIZE, OUTPUT_SIZE, decode_base64url, encode_base64url
from pulse.services.tokens.crypto import ELEMENT_SIZE  # a blinded element, a public key
from pulse.services.tokens.issuance import MAX_REQUESTS

KINDS = ("slot", "week", "day", "orgweek")
# Which identifying fields each kind of token request carries.
KIND_FIELDS = {
    "slot": ("team_id", "shift_date", "band_id"),
    "week": ("team_id", "week_start"),
    "day": ("shift_date",),
    "orgweek": ("week_start",),
}
MONDAY = "a Monday (the start of an ISO week)"


def _b64_property(size: int, description: str | None = None) -> dict[str, Any]:
    """How OpenAPI describes `size` bytes as unpadded base64url text."""
    length = (size * 4 + 2) // 3
    described = {"description": description} if description is not None else {}
    return {"type": "string", "format": "base64url", "minLength": length, "maxLength": length, **described}


class Base64urlBytes(fields.Field):
    """Bytes of one exact length, as unpadded base64url text."""

    def __init__(self, size: int, **kwargs: Any) -> None:
        super().__init__(metadata={**_b64_property(size), **kwargs.pop("metadata", {})}, **kwargs)
        self.size = size

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bytes:
        if not isinstance(value, str):
            raise ValidationError("Send base64url text (without padding).")
        try:
            raw = decode_base64url(value)
        except ValueError as error:
            raise ValidationError("Not valid base64url (without padding).") from error
        if len(raw) != self.size:
            raise ValidationError(f"Must encode exactly {self.size} bytes, not {len(raw)}.")
        return raw

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else encode_base64url(value)


def _id(description: str, *, strict: bool = True, **options: Any) -> fields.Integer:
    return fields.Integer(
        strict=strict,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": description},
        **options,
    )


def _monday(value: dt.date) -> None:
    if value.weekday() != 0:
        raise ValidationError(f"{value} is a {value:%A}; give {MONDAY}.")


# -- A token as a rating presents it --

_BYTES = {"nonce": NONCE_SIZE, "authenticator": OUTPUT_SIZE}


class PresentedToken(fields.Field):
    """A token or pseudonym as a rating presents it: {"nonce", "authenticator"}, and for the rating token its
    "shift_date" and "band_id". Read in one step rather than as a nested schema: it comes with every verified
    rating, four times, and a nested schema costs several times more (benchmarks/verified.py). Errors name the
    member at fault (e.g. `token.nonce`)."""

    def __init__(self, *, slot: bool, **kwargs: Any) -> None:
        properties = {
            "nonce": _b64_property(NONCE_SIZE, "The nonce (32 bytes)"),
            "authenticator": _b64_property(
                OUTPUT_SIZE, "The PRF output on it, unblinded by the phone (64 bytes)"
            ),
        }
        if slot:
            properties["shift_date"] = {"type": "string", "format": "date", "description": "Its shift's date"}
            properties["band_id"] = {"type": "integer", "minimum": 1, "description": "Its shift band"}
        metadata = {"type": "object", "properties": properties, "required": list(properties)}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)
        self.slot = slot

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValidationError("Send an object.")
        wanted = (
            ("nonce", "authenticator", "shift_date", "band_id") if self.slot else ("nonce", "authenticator")
        )
        errors: dict[str, list[str]] = {name: ["Unknown field."] for name in value if name not in wanted}
        out: dict[str, Any] = {}
        for name in wanted:
            if name not in value:
                errors[name] = ["Missing data for required field."]
            elif name in _BYTES:
                out[name] = _decode(value[name], _BYTES[name], name, errors)
            elif name == "shift_date":
                out[name] = _date(value[name], errors)
            else:
                out[name] = _band(value[name], errors)
        if errors:
            raise ValidationError(errors)
        return out


def _decode(text: Any, size: int, name: str, errors: dict[str, list[str]]) -> bytes:
    try:
        raw = decode_base64url(text) if isinstance(text, str) else None
    except ValueError:
        raw = None
    if raw is None or len(raw) != size:
        errors[name] = [f"Must be {size} bytes in base64url without padding."]
        return b""
    return raw


def _date(text: Any, errors: dict[str, list[str]]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
    except ValueError:
        pass
    errors["shift_date"] = ["Not a valid date."]
    return None


def _band(value: Any, errors: dict[str, list[str]]) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**31 - 1:
        return value
    errors["band_id"] = ["Must be a positive integer."]
    return 0


# -- The published keys --


def _keys_week() -> fields.Date:
    """The week whose keys are asked for, by its Monday."""
    return fields.Date(
        required=True,
        validate=_monday,
        metadata={"description": f"The week: {MONDAY}, this week or next", "example": "2026-12-07"},
    )


class TokenKeysQuerySchema(Schema):
    team_id = _id("The team", required=True, strict=False)  # from the query string: text
    week = _keys_week()


class WeekPathSchema(Schema):
    week_start = _keys_week()


class PublishedKeySchema(Schema):
    kind = fields.String(metadata={"enum": list(KINDS)})
    team_id = fields.Integer(metadata={"description": "slot and week keys"})
    shift_date = fields.Date(metadata={"description": "slot and day keys"})
    band_id = fields.Integer(metadata={"description": "slot keys"})
    band = fields.String(metadata={"description": "slot keys: the band's name"})
    week_start = fields.Date(metadata={"description": "week and orgweek keys"})
    public_key = Base64urlBytes(ELEMENT_SIZE, metadata={"description": "The key's public key (32 bytes)"})


class TeamKeysSchema(Schema):
    week_start = fields.Date()
    team_id = fields.Integer()
    keys = fields.List(fields.Nested(PublishedKeySchema))


class WeekKeysSchema(Schema):
    week_start = fields.Date()
    keys = fields.List(fields.Nested(PublishedKeySchema))


# -- Issuance --


class TokenRequestSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"enum": list(KINDS)})
    team_id = _id("slot and week: the team")
    shift_date = fields.Date(metadata={"description": "slot and day: the shift's date"})
    band_id = _id("slot: the shift band")
    week_start = fields.Date(validate=_monday, metadata={"description": f"week and orgweek: {MONDAY}"})
    blinded = Base64urlBytes(
        ELEMENT_SIZE, required=True, metadata={"description": "The blinded token input (32 bytes)"}
    )

    @validates_schema
    def fields_of_its_kind(self, data: dict[str, Any], **_: Any) -> None:
        wanted = KIND_FIELDS.get(data.get("kind", ""))
        if wanted is None:
            return
        errors: dict[str, list[str]] = {}
        for name in wanted:
            if data.get(name) is None:
                errors[name] = [f"A {data['kind']} token needs this."]
        for name in {f for fs in KIND_FIELDS.values() for f in fs} - set(wanted):
            if name in data:
                errors[name] = [f"A {data['kind']} token does not take this."]
        if errors:
            raise ValidationError(errors)


class TokensInSchema(Schema):
    requests = fields.List(
        fields.Nested(TokenRequestSchema),
        required=True,
        validate=validate.Length(max=MAX_REQUESTS),
        metadata={"description": f"At most {MAX_REQUESTS}; an empty list answers the person's teams"},
    )


class TokenTeamSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    department = fields.String()
    join_code = fields.String()


class AnsweredRequestSchema(Schema):
    """Which request an answer is to: its kind and the fields that name its key, as it asked."""

    kind = fields.String()
    team_id = fields.Integer()
    shift_date = fields.Date()
    band_id = fields.Integer()
    week_start = fields.Date()


class IssuedTokenSchema(AnsweredRequestSchema):
    evaluation = Base64urlBytes(
        EVALUATION_SIZE,
        metadata={
            "description": "The evaluated element with its DLEQ proof (99 bytes); check it against the key"
        },
    )


class RefusedTokenSchema(AnsweredRequestSchema):
    reason = fields.String(metadata={"enum": ["already-issued", "not-your-team", "closed", "no-such-slot"]})
    detail = fields.String()


class TokensOutSchema(Schema):
    teams = fields.List(fields.Nested(TokenTeamSchema))
    issued = fields.List(fields.Nested(IssuedTokenSchema))
    refused = fields.List(fields.Nested(RefusedTokenSchema))
