"""Signing in and out, and changing a password."""

from __future__ import annotations

import math
import time
from typing import Any
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from pulse.admin import bp
from pulse.admin.forms import FormRefused, read_form
from pulse.admin.limits import (
    PER_ADDRESS,
    SignInAttempts,
    is_known_device,
    limiter,
    remember_device,
    sign_in_failed,
)
from pulse.admin.security import SignedIn, actor, signed_in_required, start_session
from pulse.runtime import db_session, runtime
from pulse.schemas.admin import LoginForm, PasswordForm
from pulse.services import accounts
from pulse.services.accounts import record_change

WRONG = "The email address or password is not right."


def safe_next(target: str) -> str:
    """Only ever go on to a page of the admin area: never to another site (no open redirect)."""
    if not target.isprintable() or " " in target:  # CR/LF would split the Location header
        return url_for("admin.home")
    parts = urlsplit(target)
    if target.startswith("/admin") and not parts.scheme and not parts.netloc and "\\" not in target:
        return target
    return url_for("admin.home")


@bp.get("/login")
def login_form() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("admin.home"))
    return render_template("admin/login.html", next=request.args.get("next", ""), errors={}, email="")


@bp.post("/login")
@limiter.limit(PER_ADDRESS, deduct_when=sign_in_failed, exempt_when=is_known_device, methods=["POST"])
def login() -> Any:
    try:
        data = read_form(LoginForm())
    except FormRefused as refused:
        email = request.form.get("email", "")
        return render_template("admin/login.html", next="", errors=refused.errors, email=email), 401
    attempts = SignInAttempts(data["email"])
    wait = attempts.paused_for()
    if wait:
        return paused(wait)
    session_db = db_session(write=True)
    user = accounts.authenticate(session_db, data["email"], data["password"])
    if user is None:
        session_db.rollback()
        attempts.failed()
        errors = {"form": WRONG}
        return render_template("admin/login.html", next=data["next"], errors=errors, email=data["email"]), 401
    session_db.commit()  # a rehashed password, if argon2's parameters moved
    attempts.succeeded()
    start_session(user)
    return remember_device(redirect(safe_next(data["next"]), code=303), data["email"])


def paused(wait: int) -> tuple[str, int, dict[str, str]]:
    minutes = max(1, math.ceil(wait / 60))
    message = (
        "There have been too many failed attempts to sign in to this account from here. For your security, "
        f"signing in from here is paused for {minutes} minute{'s' if minutes != 1 else ''}. Try again then, "
        "or ask an administrator to reset your password. Signing in from a browser you have used before "
        "is not paused."
    )
    headers = {"Retry-After": str(wait)}
    return render_template("admin/error.html", title="Signing in is paused", message=message), 429, headers


@bp.errorhandler(429)
def too_many_attempts(_error: Exception) -> tuple[str, int, dict[str, str]]:
    """flask-limiter's per-address limit: this address has failed to sign in too often, to any account."""
    current = limiter.current_limit
    wait = math.ceil(current.reset_at - time.time()) if current is not None else 15 * 60
    return paused(max(1, wait))


@bp.post("/logout")
def logout() -> Any:
    """Sign out, everywhere: the account's session version moves on, so every copy of this session cookie (and
    of any other session of the account) is refused from the next request on, not only this browser's."""
    if current_user.is_authenticated:
        session_db = db_session(write=True)
        user = accounts.get_user(session_db, actor().id)
        if user is not None:
            accounts.end_sessions(session_db, user)
            session_db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("admin.login_form"), code=303)


@bp.get("/account")
@signed_in_required
def account() -> str:
    return render_template("admin/account.html", errors={}, done=False, sso=runtime().settings.sso_enabled)


@bp.post("/account")
@signed_in_required
def change_password() -> Any:
    sso = runtime().settings.sso_enabled
    try:
        data = read_form(PasswordForm())
        if data["new"] != data["confirm"]:
            raise FormRefused({"confirm": "The two new passwords are not the same."})
        session_db = db_session(write=True)
        user = accounts.get_user(session_db, actor().id)
        assert user is not None
        accounts.change_password(session_db, user, data["current"], data["new"])
    except FormRefused as refused:
        return render_template("admin/account.html", errors=refused.errors, done=False, sso=sso), 422
    except accounts.AccountError as error:
        db_session().rollback()
        errors = {error.field or "form": str(error)}
        return render_template("admin/account.html", errors=errors, done=False, sso=sso), 422
    record_change(session_db, user, "password.change", user.email)
    session_db.commit()
    login_user(SignedIn(user))  # this session carries the new version; every other session has ended
    return render_template("admin/account.html", errors={}, done=True, sso=sso)
