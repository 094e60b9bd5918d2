"""Signing in to the admin area through the organisation's identity provider (pulse.oidc: OpenID Connect,
authorisation code flow, PKCE).

Single sign-on never creates an account: an administrator adds the account first, and the identity provider's
verified email must belong to an active one. Signing in is not a privileged change, so it is not audited.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from pulse.admin import bp
from pulse.admin.security import start_session
from pulse.oidc import SignInRefused, callback_url, oidc_client, unreachable, verified_claims
from pulse.runtime import db_session
from pulse.services import accounts

log = logging.getLogger(__name__)

NOT_SET_UP = "Your organisation account is not set up in Pulse. Ask a Pulse administrator to add you."


def _client() -> Any:
    client = oidc_client()
    if client is None:
        abort(404)
    return client


def _refused(refusal: SignInRefused) -> tuple[str, int]:
    page = render_template("admin/error.html", title=refusal.title, message=refusal.message)
    return page, refusal.status


@bp.get("/login/sso")
def sso_login() -> Any:
    client = _client()
    if current_user.is_authenticated:
        return redirect(url_for("admin.home"))
    try:
        # Authlib keeps the state, the nonce and the PKCE verifier in the session until the callback.
        return client.authorize_redirect(callback_url("admin.sso_callback"))
    except requests.RequestException as error:
        return _refused(unreachable(error))


@bp.get("/login/sso/callback")
def sso_callback() -> Any:
    client = _client()
    try:
        claims = verified_claims(client)
    except SignInRefused as refusal:
        return _refused(refusal)
    user = accounts.find_user_for_sso(db_session(), claims["email"])
    if user is None:
        log.info("single sign-on: no active Pulse account has the identity provider's email")
        return _refused(SignInRefused(403, "You cannot sign in to Pulse yet", NOT_SET_UP))
    start_session(user)
    return redirect(url_for("admin.home"), code=303)
