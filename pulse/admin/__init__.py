"""The admin area (/admin): signing in, and the privileged changes administrators and managers make.

Every view here checks, on the server, that the signed-in account may act where it asks to; every form
carries a CSRF token; every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException
from werkzeug.routing import IntegerConverter

from pulse.headers import page_policy
from pulse.schemas.structure import MAX_ID
from pulse.services.accounts import NotAllowed

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Its forms post only to Pulse.
CONTENT_SECURITY_POLICY = page_policy("form-action 'self'")


def init_admin(app: Flask) -> None:
    from pulse.admin import (  # noqa: F401 - registers the views
        actions,
        auth,
        organisation,
        people,
        rating_mode,
        roster,
        sso,
        staff,
        teams,
    )
    from pulse.admin.limits import init_limits
    from pulse.admin.security import init_security

    init_security(app)
    init_limits(app)
    app.url_map.converters["id"] = IdConverter
    app.register_blueprint(bp)


class IdConverter(IntegerConverter):
    """An id in an admin address (<id:team_id>): 1 to MAX_ID, the database's 32-bit integers. Anything else
    names nothing and is a 404 here, before it can reach a query (where it would overflow)."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


@bp.app_template_test("startswith")
def starts_with(value: object, prefix: str) -> bool:
    """Jinja has no such test of its own: the home page opens the form whose field was refused with it."""
    return str(value).startswith(prefix)


@bp.before_request
def open_writing_session() -> None:
    """A form post writes: open the request's session as a writer before anything (the signed-in user, first)
    reads through it, so that on SQLite it queues for the write lock instead of failing on it."""
    from flask import request

    from pulse.runtime import db_session

    if request.method == "POST":
        db_session(write=True)


@bp.before_request
def check_csrf() -> None:
    """Every form posted to the admin area must carry the session's CSRF token (Flask-WTF)."""
    from pulse.admin.security import csrf

    csrf.protect()


@bp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> tuple[str, int]:
    message = "This form has expired or did not come from Pulse. Go back, reload the page and try again."
    return render_template("admin/error.html", title="This form has expired", message=message), 400


@bp.after_request
def protect_page(response: Any) -> Any:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"  # admin pages hold join codes and kiosk tokens
    return response


@bp.errorhandler(400)
@bp.errorhandler(403)
@bp.errorhandler(404)
def refused(error: HTTPException) -> tuple[str, int]:
    titles = {400: "This address is not right", 403: "You cannot do this here", 404: "Not found"}
    code = error.code or 500
    if code == 403:
        _record_refusal(error)
    return render_template("admin/error.html", title=titles[code], message=error.description), code


@bp.errorhandler(NotAllowed)
def not_allowed(error: NotAllowed) -> tuple[str, int]:
    """Every permission check refuses with NotAllowed (the services' own checks): the 403 page, audited."""
    return refused(Forbidden(str(error)))


def _record_refusal(error: HTTPException) -> None:
    """A signed-in account asked for something its role does not allow: the audit log says who, what and
    why, in a transaction of its own (whatever the request had begun is not kept)."""
    from flask import request
    from flask_login import current_user

    from pulse.admin.security import actor
    from pulse.runtime import db_session
    from pulse.services.accounts import record_change

    session = db_session(write=True)
    session.rollback()
    user = actor() if current_user.is_authenticated else None
    target = f"{request.method} {request.path}"
    record_change(session, user, "access.refused", target, reason=error.description or "")
    session.commit()
