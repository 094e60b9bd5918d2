"""/healthz and /readyz for load balancers and orchestrators: is Pulse up, and may it take traffic?"""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import Response, json
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from pulse import migrate
from pulse.runtime import runtime
from pulse.services.rating.inbox import mixer_state

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


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return migrate.database_revision(connection)


def _replica_state(engine: Engine, head: str | None) -> tuple[str, str | None]:
    """The read replica's state ("ok" when it answers at this version's migration) and its migration."""
    try:
        current = _revision(engine)
    except SQLAlchemyError as error:
        log.warning("readiness check: read replica unavailable (%s)", type(error).__name__)
        return "unreachable", None
    # A replica gets its migrations by replaying the primary's: they are never run on it.
    return ("ok" if current == head else "not at the expected migration"), current


def _mixer_state() -> str:
    rt = runtime()
    try:
        with rt.session_factory() as session:
            return mixer_state(session, rt.now(), rt.settings.mix_minutes)
    except SQLAlchemyError as error:
        log.warning("readiness check: inbox unavailable (%s)", type(error).__name__)
        return "unknown"


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(
        200,
        description="Ready for traffic: the database answers and is migrated to this version (status "
        '"degraded" when a read replica does not: ratings are still taken, figures are not)',
    )
    @blp.alt_response(503, description="Not ready: no database, or its migrations are behind or ahead")
    def get(self) -> Response:
        """Readiness: the database (and any read replica) answers with the schema this version expects"""
        head = _head()
        rt = runtime()
        try:
            current = _revision(rt.engine)
        except SQLAlchemyError as error:
            log.warning("readiness check: database unavailable (%s)", type(error).__name__)
            return _answer(503, {"status": "unavailable", "database": "unreachable"})
        body: dict[str, Any] = {"status": "ok", "database": "ok", "migration": current, "expected": head}
        if current != head:
            body["status"] = "not ready"
            body["database"] = "run `alembic upgrade head`" if current is not None else "not migrated"
        elif (mixer := _mixer_state()) != "ok":
            # Ratings wait, sealed, for the maintainer: nothing is lost, but figures stop moving ("behind"),
            # or no rating can be taken at all ("never ran").
            body["mixer"] = mixer
            body["status"] = "degraded"
        if rt.read_engine is not None:
            # The replica serves published figures only. Without it the figures fail (503), but ratings go on,
            # so the instance stays in its load balancer: "degraded", for monitoring to page on.
            body["replica"], body["replica_migration"] = _replica_state(rt.read_engine, head)
            if body["replica"] != "ok" and body["status"] == "ok":
                body["status"] = "degraded"
        return _answer(503 if body["status"] == "not ready" else 200, body)
