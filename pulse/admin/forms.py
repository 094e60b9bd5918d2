"""Reading a posted form through its marshmallow schema, and answering a refused one."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from pulse.schemas.admin import first_errors
from pulse.services.errors import InvalidInput


class FormRefused(Exception):
    """The form's input cannot be used; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def errors_of(
    refused: FormRefused | InvalidInput, prefix: str = "", field_ids: dict[str, str] | None = None
) -> dict[str, str]:
    """{input id: message} for the page: a form's own errors, or a service's refusal of one field.

    `prefix` makes ids unique where a page has several forms; `field_ids` maps a service's field name to the
    id of the input that holds it, where the two differ.
    """
    if isinstance(refused, FormRefused):
        return {prefix + key: value for key, value in refused.errors.items()}
    field = refused.field or "form"
    return {prefix + (field_ids or {}).get(field, field): str(refused)}


def read_form(schema: Schema) -> dict[str, Any]:
    try:
        return schema.load(request.form)
    except ValidationError as error:
        raise FormRefused(first_errors(error)) from error
