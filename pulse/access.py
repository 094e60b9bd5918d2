"""Who may view the dashboard and the figures API: everyone (the default), or only signed-in users and staff
whose device has opened their team's rating link. Roles never change *what* is shown (docs/anonymity.md A20).

A staff device is let in by a cookie of its own, given when it opens a team's rating link: signed, holding a
random id for this device, the day it was given and the organisation's device generation. It expires after
PULSE_DASHBOARD_DEVICE_DAYS (opening the link again renews it), and an administrator can end every such cookie
at once by raising the generation. Pulse stores nothing about devices: no id, no list, no time. The cookie
names no team, and the rating endpoints never read cookies (pulse.admin.security), so it cannot tie a device
to a rating; its day is no finer than the published weeks.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, json, render_template, request
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from pulse.models import DashboardAccess
from pulse.runtime import db_session, runtime
from pulse.services.organisation import dashboard_access, dashboard_generation

DEVICE_COOKIE = "pulse_dashboard_device"
FORMER_COOKIE = "pulse_joined"  # one value shared by every device, for 400 days: no longer honoured
GATED = ("/dashboard", "/api/v1/figures")
# Dash's script bundles and the stylesheet hold no figures.
UNGATED_PARTS = ("/_dash-component-suites/", "/assets/", "/_favicon.ico")


def init_access(app: Flask) -> None:
    app.before_request(check_dashboard_access)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="pulse-dashboard-device")


def device_cookie_name() -> str:
    """Under HTTPS, __Host-: Secure, for this host alone and the whole site (the dashboard and the API)."""
    return ("__Host-" if runtime().settings.secure_cookies else "") + DEVICE_COOKIE


def _today() -> int:
    """Days since 1970 on the app's clock: the cookie's only time, no finer than a day."""
    return runtime().now().toordinal() - 719_163  # date(1970, 1, 1).toordinal()


def mark_device_joined(response: Response) -> Response:
    """Give this device (anew) its own dashboard access, for PULSE_DASHBOARD_DEVICE_DAYS."""
    days = runtime().settings.dashboard_device_days
    payload = [secrets.token_urlsafe(16), _today(), dashboard_generation(db_session())]
    response.set_cookie(
        device_cookie_name(),
        _serializer().dumps(payload),
        max_age=days * 24 * 60 * 60,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=runtime().settings.secure_cookies,
    )
    if FORMER_COOKIE in request.cookies:
        response.delete_cookie(FORMER_COOKIE)
    return response


def device_joined() -> bool:
    raw = request.cookies.get(device_cookie_name())
    if not raw:
        return False
    try:
        device, day, generation = _serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        return False
    if not (isinstance(device, str) and isinstance(day, int) and isinstance(generation, int)):
        return False
    age = _today() - day
    if not 0 <= age < runtime().settings.dashboard_device_days:
        return False
    return generation == dashboard_generation(db_session())


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
