"""Signing in and out, and changing a password."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from pulse.admin import bp
from pulse.admin.forms import FormRefused, read_form
from pulse.admin.limits import LOCKOUT_MINUTES, PER_ACCOUNT, PER_ADDRESS, account_key, limiter, sign_in_failed
from pulse.admin.security import SignedIn, actor, signed_in_required
from pulse.runtime import db_session, runtime
from pulse.schemas.admin import LoginForm, PasswordForm
from pulse.services import accounts
from pulse.services.audit_log import record_change

WRONG = "The email address or password is not right."


def safe_next(target: str) -> str:
    """Only ever go on to a page of the admin area: never to another site (no open redirect)."""
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
@limiter.limit(PER_ACCOUNT, key_func=account_key, deduct_when=sign_in_failed, methods=["POST"])
@limiter.limit(PER_ADDRESS, deduct_when=sign_in_failed, methods=["POST"])
def login() -> Any:
    try:
        data = read_form(LoginForm())
    except FormRefused as refused:
        email = request.form.get("email", "")
        return render_template("admin/login.html", next="", errors=refused.errors, email=email), 401
    session_db = db_session(write=True)
    user = accounts.authenticate(session_db, data["email"], data["password"])
    if user is None:
        session_db.rollback()
        errors = {"form": WRONG}
        return render_template("admin/login.html", next=data["next"], errors=errors, email=data["email"]), 401
    session_db.commit()  # a rehashed password, if argon2's parameters moved
    session.clear()  # a fresh session on sign-in: nothing carried over from before (session fixation)
    login_user(SignedIn(user))
    session.permanent = True
    return redirect(safe_next(data["next"]), code=303)


@bp.errorhandler(429)
def too_many_attempts(_error: Exception) -> tuple[str, int, dict[str, str]]:
    message = (
        f"There have been too many failed attempts to sign in. For your security, signing in is paused for "
        f"{LOCKOUT_MINUTES} minutes. Try again later, or ask an administrator to reset your password."
    )
    headers = {"Retry-After": str(LOCKOUT_MINUTES * 60)}
    return render_template("admin/error.html", title="Signing in is paused", message=message), 429, headers


@bp.post("/logout")
def logout() -> Any:
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
