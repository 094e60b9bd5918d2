"""Who may view the dashboard and the figures API: everyone (the default), or only signed-in users and staff
whose device has opened their team's rating link. Roles never change *what* is shown (PRIVACY.md L5)."""

from __future__ import annotations

from flask import Flask, Response, current_app, json, render_template, request
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from pulse.models import DashboardAccess
from pulse.runtime import db_session, runtime
from pulse.services.organisation import dashboard_access

JOINED_COOKIE = "pulse_joined"
JOINED_DAYS = 400  # the longest browsers keep a cookie
GATED = ("/dashboard", "/api/v1/figures")
# Dash's script bundles and the stylesheet hold no figures.
UNGATED_PARTS = ("/_dash-component-suites/", "/assets/", "/_favicon.ico")


def init_access(app: Flask) -> None:
    app.before_request(check_dashboard_access)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="pulse-joined")


def mark_device_joined(response: Response) -> Response:
    """Remember on this device that it opened a team's rating link: it may view the dashboard when viewing
    is for signed-in users only. The cookie says nothing about which team, and Pulse stores nothing."""
    response.set_cookie(
        JOINED_COOKIE,
        _serializer().dumps("joined"),
        max_age=JOINED_DAYS * 24 * 60 * 60,
        httponly=True,
        samesite="Lax",
        secure=runtime().settings.secure_cookies,
    )
    return response


def device_joined() -> bool:
    raw = request.cookies.get(JOINED_COOKIE)
    if not raw:
        return False
    try:
        return _serializer().loads(raw) == "joined"
    except BadSignature:
        return False


def check_dashboard_access() -> Response | tuple[str, int] | None:
    path = request.path
    if not path.startswith(GATED) or any(part in path for part in UNGATED_PARTS):
        return None
    if dashboard_access(db_session()) == DashboardAccess.PUBLIC:
        return None
    if current_user.is_authenticated or device_joined():
        return None
    if path.startswith("/api/"):
        body = {
            "type": "urn:pulse:problem:sign-in-needed",
            "title": "Unauthorized",
            "status": 401,
            "detail": "Sign in, or open your team's rating link on this device, to see the figures.",
        }
        return Response(json.dumps(body), status=401, mimetype="application/problem+json")
    return render_template("admin/dashboard_sign_in.html"), 401
