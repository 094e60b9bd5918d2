"""Reading a posted form through its marshmallow schema, and answering a refused one."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from pulse.schemas.admin import first_errors


class FormRefused(Exception):
    """The form's input cannot be used; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def read_form(schema: Schema) -> dict[str, Any]:
    try:
        return schema.load(request.form)
    except ValidationError as error:
        raise FormRefused(first_errors(error)) from error
