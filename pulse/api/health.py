"""/healthz and /readyz for load balancers and orchestrators: is Pulse up, and may it take traffic?"""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import Response, json
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pulse import migrate
from pulse.runtime import runtime

log = logging.getLogger(__name__)

blp = Blueprint("health", __name__, description="Health checks for load balancers and monitoring")


@functools.cache
def _head() -> str | None:
    return migrate.head_revision()


def _answer(status: int, body: dict[str, Any]) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, description="The process is up and its database answers")
    @blp.alt_response(503, description="The database does not answer")
    def get(self) -> Response:
        """Liveness: the database answers a query"""
        try:
            with runtime().engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            log.warning("health check: database unavailable (%s)", type(error).__name__)
            return _answer(503, {"status": "unavailable", "database": "unreachable"})
        return _answer(200, {"status": "ok", "database": "ok"})


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, description="Ready for traffic: the database answers and is migrated to this version")
    @blp.alt_response(503, description="Not ready: no database, or its migrations are behind or ahead")
    def get(self) -> Response:
        """Readiness: the database answers and its schema is the one this version expects"""
        head = _head()
        try:
            with runtime().engine.connect() as connection:
                current = migrate.database_revision(connection)
        except SQLAlchemyError as error:
            log.warning("readiness check: database unavailable (%s)", type(error).__name__)
            return _answer(503, {"status": "unavailable", "database": "unreachable"})
        body = {"status": "ok", "database": "ok", "migration": current, "expected": head}
        if current != head:
            body["status"] = "not ready"
            body["database"] = "run `alembic upgrade head`" if current is not None else "not migrated"
            return _answer(503, body)
        return _answer(200, body)
