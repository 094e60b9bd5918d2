"""Reading a posted form through its marshmallow schema, and answering it: a refused form shows its page again
(422) with each message beside its field; an accepted one is committed and sent on (303) to where it shows."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response

from pulse.runtime import db_session
from pulse.schemas.admin import first_errors
from pulse.services.errors import InvalidInput


class FormRefused(Exception):
    """The form's input cannot be used; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# What a form's view catches: the form's own refusal, or a service's refusal of one of its fields.
REFUSALS = (FormRefused, InvalidInput)


def refusal_errors(
    refused: FormRefused | InvalidInput, prefix: str = "", field_ids: dict[str, str] | None = None
) -> dict[str, str]:
    """The one answer to a refused form: nothing the request began is kept (its session rolls back), and the
    page gets {input id: message} (errors_of) to show beside each field and in the summary."""
    db_session().rollback()
    return errors_of(refused, prefix, field_ids)


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


def form_page(
    template: str,
    errors: dict[str, str] | None = None,
    status: int = 200,
    values: dict[str, Any] | None = None,
    **context: Any,
) -> tuple[str, int]:
    """A page of forms: with `errors` (and 422), each message beside its input and in the summary, and the
    `values` that were posted; shown after a change (200), the notice its redirect named (?done=)."""
    notice = request.args.get("done", "") if status == 200 else ""
    page = render_template(template, errors=errors or {}, values=values or {}, notice=notice, **context)
    return page, status


def commit_and_redirect(endpoint: str, **values: Any) -> Response:
    """The change is made: commit the request's session, and send the browser to see it with a 303, so that
    reloading the page it lands on never posts the form again."""
    db_session().commit()
    return redirect(url_for(endpoint, **values), code=303)
