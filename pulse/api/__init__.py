"""The HTTP API (flask-smorest): versioned under /api/v1, documented at /api/openapi.json and /api/docs."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request, send_from_directory
from sqlalchemy.exc import DBAPIError
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import RequestEntityTooLarge

from pulse.api.problems import (
    ProblemApi,
    Refused,
    handle_database_unavailable,
    handle_inbox_unavailable,
    handle_refused,
    problem,
)
from pulse.services.rating import NoOpenEpoch, StaleEpoch

JSON_METHODS = ("POST", "PUT", "PATCH")


# Swagger UI's page: its scripts and styles from Pulse itself, and its one inline script (the configuration
# flask-smorest writes) allowed by its hash, so no other inline script can run. It fetches the OpenAPI
# document and, for "Try it out", the API itself: both on this origin.
API_DOCS_POLICY = (
    "default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _protect_api_docs(app: Flask) -> None:
    """Give flask-smorest's Swagger UI view its policy, on the page as rendered (before any compression)."""
    endpoint = "api-docs.openapi_swagger_ui"
    view: Callable[..., Any] = app.view_functions[endpoint]

    @functools.wraps(view)
    def protected(*args: Any, **kwargs: Any) -> Response:
        response = app.make_response(view(*args, **kwargs))
        response.headers["Content-Security-Policy"] = api_docs_policy(response.get_data(as_text=True))
        return response

    app.view_functions[endpoint] = protected


def api_docs_policy(page: str) -> str:
    """The docs page's Content-Security-Policy, with the hash of each inline script it holds."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(page)
    ]
    return API_DOCS_POLICY.format(hashes=" ".join(hashes))


def init_api(app: Flask) -> ProblemApi:
    app.config.update(
        API_TITLE="Pulse",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Served by Pulse itself from the swagger-ui-bundle package: no CDN at run time.
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},  # never send the spec to an online validator
        API_SPEC_OPTIONS={
            "info": {
                "description": "Anonymous end-of-shift morale ratings. Errors are application/problem+json.",
            }
        },
    )
    api = ProblemApi(app)

    from pulse.api.enrolments import blp as enrolments_blp
    from pulse.api.figures import blp as figures_blp
    from pulse.api.health import blp as health_blp
    from pulse.api.ratings import blp as ratings_blp
    from pulse.api.structure import blp as structure_blp
    from pulse.api.tokens import blp as tokens_blp

    api.register_blueprint(ratings_blp)
    api.register_blueprint(structure_blp)
    api.register_blueprint(figures_blp)
    api.register_blueprint(health_blp)
    api.register_blueprint(enrolments_blp)
    api.register_blueprint(tokens_blp)

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_ui_assets(filename: str):
        return send_from_directory(swagger_ui_path, filename)

    _protect_api_docs(app)

    @app.before_request
    def require_json_body():
        if not (request.path.startswith("/api/") and request.method in JSON_METHODS):
            return None
        if request.routing_exception is not None:  # no such address, or not this method: 404 or 405 first
            return None
        if not request.is_json:
            return problem(
                415, errors={"body": ["Send JSON with the header Content-Type: application/json."]}
            )
        limit = request.max_content_length
        if request.content_length is None and limit and len(request.get_data(cache=True)) >= limit:
            # A chunked body (no Content-Length) is cut off at the limit, silently: refuse it instead.
            raise RequestEntityTooLarge()
        return None

    app.register_error_handler(Refused, handle_refused)
    app.register_error_handler(DBAPIError, handle_database_unavailable)
    app.register_error_handler(NoOpenEpoch, handle_inbox_unavailable)
    app.register_error_handler(StaleEpoch, handle_inbox_unavailable)
    return api
