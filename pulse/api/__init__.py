"""The HTTP API (flask-smorest): versioned under /api/v1, documented at /api/openapi.json and /api/docs."""

from __future__ import annotations

from flask import Flask, request, send_from_directory
from sqlalchemy.exc import DBAPIError
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import RequestEntityTooLarge

from pulse.api.problems import ProblemApi, handle_database_unavailable, problem

JSON_METHODS = ("POST", "PUT", "PATCH")


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

    from pulse.api.figures import blp as figures_blp
    from pulse.api.health import blp as health_blp
    from pulse.api.ratings import blp as ratings_blp
    from pulse.api.structure import blp as structure_blp

    api.register_blueprint(ratings_blp)
    api.register_blueprint(structure_blp)
    api.register_blueprint(figures_blp)
    api.register_blueprint(health_blp)

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_ui_assets(filename: str):
        return send_from_directory(swagger_ui_path, filename)

    @app.before_request
    def require_json_body():
        if not (request.path.startswith("/api/") and request.method in JSON_METHODS):
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

    app.register_error_handler(DBAPIError, handle_database_unavailable)
    return api
