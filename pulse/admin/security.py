"""Who is signed in, and what they may do: Flask-Login wiring, permission checks, and CSRF on every form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Request, render_template, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer

from pulse.models import Team, User
from pulse.runtime import db_session, runtime
from pulse.services import accounts

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
csrf = CSRFProtect()


class SignedIn(UserMixin):
    """The Flask-Login face of an account. Its id carries the session version: a password change, a role
    change or deactivation raises the version, and every session made before it ends at its next request."""

    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}"


# When the session began and when it was last used (Unix seconds, on the app's clock): the absolute and idle
# limits are checked against them on every request, on the server.
SIGNED_IN_AT, SEEN_AT = "_signed_in_at", "_seen_at"
SESSION_COOKIE = "pulse_session"
# Under HTTPS the cookie is named with the __Host- prefix: browsers then keep it only if it is Secure, for the
# whole site (Path=/) and for this host alone (no Domain), so a sibling subdomain cannot set or shadow it.
SECURE_SESSION_COOKIE = "__Host-" + SESSION_COOKIE


# The anonymous rating endpoints: they take no cookies, so they get no session.
SESSIONLESS_PREFIXES = ("/api/v1/ratings", "/api/v1/kiosk-ratings")


class PulseSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with less work per request (measured with py-spy under
    benchmarks/ingest.py): the rating endpoints get a null session, so a cookie sent along is neither read
    nor written, and the signing serializer is made once per key rather than on every request."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is not None:
                self._serializers = {key: serializer}  # only the current key's is kept
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_security(app: Flask) -> None:
    settings = app.extensions["pulse"].settings
    app.config.update(
        SESSION_COOKIE_NAME=SECURE_SESSION_COOKIE if settings.secure_cookies else SESSION_COOKIE,
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        # The cookie's own lifetime is the idle limit: a browser drops it, and the signature expires, after
        # that long unused. load_user checks both limits against the session's own times as well.
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.session_idle_minutes),
        # CSRF is checked by the admin area for every form it receives, not app-wide: the rating API and the
        # dashboard's callbacks use no cookie authority, so there is nothing there to forge.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=True,
        PULSE_SSO=settings.sso_enabled,
    )
    app.session_interface = PulseSessionInterface()
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorised)
    csrf.init_app(app)


def load_user(user_id: str) -> SignedIn | None:
    try:
        raw_id, raw_version = user_id.split(":")
        wanted_id, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    user = accounts.get_user(db_session(), wanted_id)
    if user is None or not user.active or user.session_version != version:
        return None
    settings = runtime().settings
    now = _now()
    signed_in_at, seen_at = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in_at, int) or not isinstance(seen_at, int):
        return None  # a session from before these limits, or not made by start_session
    if now - signed_in_at >= settings.session_hours * 3600:
        return None
    if now - seen_at >= settings.session_idle_minutes * 60:
        return None
    session[SEEN_AT] = now
    return SignedIn(user)


def start_session(user: User) -> None:
    """Sign `user` in on a fresh session (nothing carried over from before: no session fixation)."""
    session.clear()
    login_user(SignedIn(user))
    session.permanent = True
    session[SIGNED_IN_AT] = session[SEEN_AT] = _now()


def _now() -> int:
    return int(runtime().now().timestamp())


def unauthorised() -> tuple[str, int]:
    return render_template("admin/sign_in_needed.html"), 401


def actor() -> User:
    """The signed-in account (views behind signed_in_required only)."""
    return cast(SignedIn, current_user).user


def signed_in_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def admin_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        accounts.require_admin(actor())
        return view(*args, **kwargs)

    return cast(F, wrapper)


# The permission checks are the services' own (accounts.require_admin, .require_department, .require_team;
# roster.require_may_act_on): each raises NotAllowed, which the admin area answers with its 403 page, audited.


def require_department(department_id: int) -> None:
    accounts.require_department(actor(), department_id)


def require_team(team: Team) -> None:
    accounts.require_team(actor(), team)
