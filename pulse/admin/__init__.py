"""The admin area (/admin): signing in, and the privileged changes administrators and managers make.

Every view here checks, on the server, that the signed-in account may act where it asks to; every form
carries a CSRF token; every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def init_admin(app: Flask) -> None:
    from pulse.admin import actions, auth, organisation, people, sso, teams  # noqa: F401 - registers the views
    from pulse.admin.limits import init_limits
    from pulse.admin.security import init_security

    init_security(app)
    init_limits(app)
    sso.init_sso(app)
    app.register_blueprint(bp)


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


@bp.errorhandler(403)
@bp.errorhandler(404)
def refused(error: HTTPException) -> tuple[str, int]:
    titles = {403: "You cannot do this here", 404: "Not found"}
    code = error.code or 500
    return render_template("admin/error.html", title=titles[code], message=error.description), code
