"""The admin area's forms: what each accepts, and the message for each field it refuses."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from pulse.schemas.structure import MAX_ID
from pulse.schemas.text import PLAIN_TEXT

NAME = [validate.Length(min=1, max=120, error="Enter 1 to 120 characters."), PLAIN_TEXT]
# An id chosen in a form (a department, a reason): the database's 32-bit integers, or it names nothing.
AN_ID = validate.Range(min=1, max=MAX_ID, error="Choose one of the options shown.")


class FormSchema(Schema):
    """Form fields arrive as text: trim them, and ignore extras such as the CSRF token."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def strip_text(self, data: Any, **_: Any) -> dict[str, Any]:
        plain: dict[str, Any] = {}
        for key in data:
            values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
            field = self.fields.get(key)
            if isinstance(field, fields.List):
                plain[key] = [v.strip() if isinstance(v, str) else v for v in values]
            else:
                value = values[-1]
                plain[key] = value.strip() if isinstance(value, str) else value
        return plain


class LoginForm(FormSchema):
    email = fields.String(required=True, validate=[validate.Length(min=3, max=254), PLAIN_TEXT])
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    next = fields.String(load_default="")


class PasswordForm(FormSchema):
    current = fields.String(required=True, validate=validate.Length(max=1024))
    new = fields.String(required=True, validate=validate.Length(max=1024))
    confirm = fields.String(required=True, validate=validate.Length(max=1024))


class DepartmentForm(FormSchema):
    name = fields.String(required=True, validate=NAME)
    active = fields.Boolean(load_default=True)


class TeamForm(FormSchema):
    name = fields.String(required=True, validate=NAME)
    headcount = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=100_000, error="Enter a whole number from 0 to 100,000."),
        error_messages={"invalid": "Enter the number of staff as a whole number, like 24."},
    )
    active = fields.Boolean(load_default=True)


class ReplaceLinkForm(FormSchema):
    """The confirmation page's form: without its "replace" nothing changes (a stray post cannot do it)."""

    confirm = fields.String(
        required=True,
        validate=validate.Equal("replace", error="Confirm that every poster of the team will stop working."),
        error_messages={"required": "Confirm that every poster of the team will stop working."},
    )


class MoveTeamForm(FormSchema):
    department_id = fields.Integer(
        required=True, validate=AN_ID, error_messages={"invalid": "Choose a department."}
    )


class KioskForm(FormSchema):
    action = fields.String(required=True, validate=validate.OneOf(["enable", "disable"]))


class ShiftBandForm(FormSchema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=40), PLAIN_TEXT])
    start_time = fields.Time(
        required=True, format="%H:%M", error_messages={"invalid": "Enter a time like 07:00."}
    )
    end_time = fields.Time(
        required=True, format="%H:%M", error_messages={"invalid": "Enter a time like 15:00."}
    )


class ReasonTagForm(FormSchema):
    label = fields.String(required=True, validate=[validate.Length(min=1, max=80), PLAIN_TEXT])


class SupportLinkForm(FormSchema):
    label = fields.String(required=True, validate=[validate.Length(min=1, max=80), PLAIN_TEXT])
    url = fields.String(required=True, validate=[validate.Length(min=5, max=500), PLAIN_TEXT])
    description = fields.String(load_default="", validate=[validate.Length(max=200), PLAIN_TEXT])


class SettingsForm(FormSchema):
    k = fields.Integer(
        required=True,
        validate=validate.Range(min=5, max=100, error="k must be a whole number from 5 to 100."),
        error_messages={"invalid": "k must be a whole number from 5 to 100."},
    )
    dashboard_access = fields.String(required=True, validate=validate.OneOf(["public", "signed_in"]))


class UserForm(FormSchema):
    email = fields.String(required=True, validate=[validate.Length(min=3, max=254), PLAIN_TEXT])
    name = fields.String(required=True, validate=NAME)
    role = fields.String(required=True, validate=validate.OneOf(["admin", "manager"]))
    password = fields.String(load_default="", validate=validate.Length(max=1024))
    department_ids = fields.List(fields.Integer(validate=AN_ID), load_default=list)


class ScopeForm(FormSchema):
    department_ids = fields.List(fields.Integer(validate=AN_ID), load_default=list)


class ActiveForm(FormSchema):
    active = fields.Boolean(required=True)


def first_errors(error: ValidationError) -> dict[str, str]:
    """{field: its first message}, for showing beside each form field."""
    messages = error.messages if isinstance(error.messages, dict) else {"form": error.messages}
    flat: dict[str, str] = {}
    for key, value in messages.items():
        while isinstance(value, (list, dict)) and value:
            value = value[0] if isinstance(value, list) else next(iter(value.values()))
        flat[str(key)] = str(value)
    return flat


class ActionForm(FormSchema):
    taken_on = fields.Date(
        required=True, format="%Y-%m-%d", error_messages={"invalid": "Enter the date like 2026-11-23."}
    )
    summary = fields.String(required=True, validate=[validate.Length(min=1, max=280), PLAIN_TEXT])
    reason_ids = fields.List(fields.Integer(validate=AN_ID), load_default=list)
    rebase = fields.Boolean(load_default=False)


class RosterAddForm(FormSchema):
    # Checked and normalised by pulse.services.accounts.roster, which names what is wrong with it.
    identifier = fields.String(
        required=True,
        validate=validate.Length(min=1, max=254, error="Enter the person's email address or staff number."),
        error_messages={"required": "Enter the person's email address or staff number."},
    )


class RosterImportForm(FormSchema):
    replace = fields.Boolean(load_default=False)


class TeamCodesForm(FormSchema):
    include_enrolled = fields.Boolean(load_default=False)


class RatingModeForm(FormSchema):
    rating_mode = fields.String(
        required=True,
        validate=validate.OneOf(["open", "verified"], error="Choose open or verified rating."),
        error_messages={"required": "Choose open or verified rating."},
    )
