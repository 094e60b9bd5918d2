"""Every API error leaves as application/problem+json, naming the field at fault."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, json, request
from flask_smorest import Api
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from pulse.schemas.problem import ProblemSchema

PROBLEM_MIME = "application/problem+json"
log = logging.getLogger(__name__)

DETAILS = {
    400: "The request could not be read. Send a JSON object.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The request body is too large.",
    415: "Send JSON with the header Content-Type: application/json.",
    422: "Some fields are missing or not valid; see errors.",
    429: "Too many requests. Please wait and try again.",
    500: "Something went wrong on our side. Your request was not counted; please try again.",
    503: "Pulse is briefly unavailable. Your request was not counted; please try again shortly.",
}


def problem(
    status: int,
    *,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    kind: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:pulse:problem:{kind}" if kind else "about:blank",
        "title": title or _title(status),
        "status": status,
        "detail": detail or DETAILS.get(status, _title(status)),
    }
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _title(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Error")


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow messages -> {"field.sub": [messages]}, dropping the location ("json", "query")."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, name))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "body": list(messages)}
    return {prefix or "body": [str(messages)]}


LOCATIONS = ("json", "query", "path", "headers", "form", "files", "cookies")


def _merge_locations(messages: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for per_location in messages.values():
        merged.update(per_location if isinstance(per_location, dict) else {"body": per_location})
    return merged


class ProblemApi(Api):
    """flask-smorest's Api, answering errors as problem details (and documenting them so)."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        if not request.path.startswith("/api/"):
            return error
        if isinstance(error, InternalServerError):
            log.error(
                "unhandled error on %s %s", request.method, request.path, exc_info=error.original_exception
            )
        data = getattr(error, "data", None) or {}
        status = error.code or 500
        errors = None
        if "messages" in data or "errors" in data:
            messages = data.get("errors", data.get("messages"))
            if isinstance(messages, dict) and set(messages) <= set(LOCATIONS):
                messages = _merge_locations(messages)
            errors = flatten_errors(messages)
            if status == 400 and errors == {"body": ["Invalid JSON body."]}:
                errors = {"body": ["The body is not valid JSON."]}
        if status == 413:
            errors = {"body": [f"The body is larger than the {request.max_content_length} bytes allowed."]}
        detail = data.get("message") if status not in DETAILS else None
        return problem(status, detail=detail, errors=errors, headers=data.get("headers"))


def handle_database_unavailable(error: DBAPIError) -> Any:
    """A lost database connection is a 503 with Retry-After, never a 500 or a hang; nothing was counted."""
    if isinstance(error, OperationalError) or error.connection_invalidated:
        log.warning("database unavailable: %s", type(error.orig).__name__)
        if request.path.startswith("/api/"):
            return problem(503, headers={"Retry-After": "5"})
        return Response(DETAILS[503], status=503, headers={"Retry-After": "5"}, mimetype="text/plain")
    raise error
