"""Every API error leaves as application/problem+json, naming the field at fault."""

from __future__ import annotations

import json as stdlib_json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from apispec import BasePlugin
from flask import Response, json, request
from flask_smorest import Api, Blueprint
from sqlalchemy.exc import DBAPIError, OperationalError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from pulse.schemas.problem import ProblemSchema

PROBLEM_MIME = "application/problem+json"
F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

DETAILS = {
    400: "The request could not be read. Send a JSON object.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The request body is too large.",
    415: "Send JSON with the header Content-Type: application/json.",
    422: "Some fields are missing or not valid; see errors.",
    429: "Too many requests. Please wait and try again.",
    # A rating whose answer was lost may still have been counted: resending it is safe (its idempotency key).
    500: "Something went wrong on our side. Please try again: a rating sent again is never counted twice.",
    503: "Pulse is briefly unavailable. Please try again soon: a rating sent again is never counted twice.",
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


class Refused(Exception):
    """A view's refusal, raised rather than returned (so no caller has to tell a refusal from a result):
    handle_refused, registered once for the whole API, answers it as problem(status, ...)."""

    def __init__(
        self,
        status: int,
        *,
        detail: str | None = None,
        errors: dict[str, list[str]] | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or _title(status))
        self.status = status
        self.detail = detail
        self.errors = errors
        self.kind = kind
        self.headers = headers


def handle_refused(error: Refused) -> Response:
    return problem(
        error.status, detail=error.detail, errors=error.errors, kind=error.kind, headers=error.headers
    )


def _title(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Error")


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow messages -> {"field.sub": [messages]}, dropping the location ("json", "query").

    marshmallow's "_schema" (the input as a whole, e.g. a JSON array where an object belongs) is named "body".
    """
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else ("body" if key == "_schema" else str(key))
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


class JsonBodyParser(FlaskParser):
    """webargs' parser, refusing with 400 (never 500) the JSON that Python will not build: nesting deeper than
    its recursion limit, or an integer of more than 4,300 digits. Both fit in a small body."""

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except stdlib_json.JSONDecodeError:
            raise
        except (RecursionError, ValueError) as error:
            raise stdlib_json.JSONDecodeError(type(error).__name__, "(the body)", 0) from error


class ProblemBlueprint(Blueprint):
    """A blueprint whose JSON bodies are read by JsonBodyParser."""

    ARGUMENTS_PARSER = JsonBodyParser()

    def json_body_problems(self, view: F) -> F:
        """Document the problems any JSON body may meet: too large (413) or not JSON (415)."""
        view = self.alt_response(415, schema=ProblemSchema, description="Not JSON")(view)
        return cast(F, self.alt_response(413, schema=ProblemSchema, description="Body too large")(view))


class ProblemContentPlugin(BasePlugin):
    """Documents every error response with the content type it is sent with: application/problem+json."""

    def response_helper(self, response: dict[str, Any], **_: Any) -> dict[str, Any] | None:
        # flask-smorest's shared responses (422, the default error, ...) all carry the problem schema.
        return _as_problem(response)

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for operation in (operations or {}).values():
            for status, response in operation.get("responses", {}).items():
                if isinstance(response, dict) and (status == "default" or int(status) >= 400):
                    response.update(_as_problem(response) or {})


def _as_problem(response: dict[str, Any]) -> dict[str, Any] | None:
    content = response.get("content")
    if not content or "application/json" not in content:
        return None
    relabel = {"application/json": PROBLEM_MIME}
    return {"content": {relabel.get(kind, kind): body for kind, body in content.items()}}


class ProblemApi(Api):
    """flask-smorest's Api, answering errors as problem details (and documenting them so)."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, **options: Any) -> None:
        options["extra_plugins"] = [*options.get("extra_plugins", ()), ProblemContentPlugin()]
        super()._init_spec(**options)

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
        headers = dict(data.get("headers") or {})
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(sorted(error.valid_methods))  # RFC 9110: a 405 names what is allowed
        return problem(status, detail=detail, errors=errors, headers=headers)


class OutageLog:
    """At most one warning per `every` seconds while the database is away, saying how many requests were
    turned away since the last one: an outage under load must not flood the log (it gave 565 lines in 4.5 s
    in benchmarks/reliability.py db-restart)."""

    def __init__(self, every: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._unlogged = 0

    def record(self, cause: str) -> None:
        now = self.clock()
        with self._lock:
            if self._last is not None and now - self._last < self.every:
                self._unlogged += 1
                return
            self._last, unlogged, self._unlogged = now, self._unlogged, 0
        more = f"; {unlogged} more request(s) answered 503 since the last warning" if unlogged else ""
        log.warning("database unavailable: %s%s", cause, more)


outage_log = OutageLog()


def handle_database_unavailable(error: DBAPIError) -> Any:
    """A lost database connection is a 503 with Retry-After, never a 500 or a hang. A rating whose answer was
    lost may have been counted; sent again with its idempotency key, it is never counted twice."""
    if isinstance(error, OperationalError) or error.connection_invalidated:
        outage_log.record(type(error.orig).__name__)
        if request.path.startswith("/api/"):
            return problem(503, headers={"Retry-After": "5"})
        return Response(DETAILS[503], status=503, headers={"Retry-After": "5"}, mimetype="text/plain")
    raise error


def handle_inbox_unavailable(error: Exception) -> Any:
    """No inbox epoch to seal a rating to (the mixer has never run here), or none that stayed open: 503 with
    Retry-After. Nothing was counted; the same rating sent again later counts once."""
    log.error("rating not taken: %s", error or type(error).__name__)
    return problem(503, headers={"Retry-After": "30"})
