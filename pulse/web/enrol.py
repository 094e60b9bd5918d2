"""Enrolling a phone for verified rating (/enrol): with a personal enrolment code (typed, or /enrol/<code>
from its QR code), or by signing in at the organisation's identity provider. Server-rendered like the rating
pages; enrol.js redeems a code through the API and keeps the device credential in localStorage.

A GET never uses a code: link checkers and previews open links too, and a code works once. The person
presses "Enrol this phone" on the page.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from flask import Blueprint, Response, abort, render_template, url_for

from pulse.oidc import SignInRefused, callback_url, oidc_client, unreachable, verified_claims
from pulse.runtime import db_session, runtime
from pulse.services.accounts.roster import Enrolment, EnrolmentRefused, enrol_by_email
from pulse.web.pages import CONTENT_SECURITY_POLICY
from pulse.web.verified import is_verified, token_page_data

log = logging.getLogger(__name__)

bp = Blueprint("enrol", __name__, template_folder="templates")

START_AGAIN = "Go back to the enrolment page and try again."


def _page(
    *,
    code: str = "",
    enrolment: Enrolment | None = None,
    refusal: SignInRefused | None = None,
    status: int = 200,
) -> tuple[str, int]:
    settings = runtime().settings
    session = db_session()
    page = render_template(
        "enrol/enrol.html",
        code=code,
        enrolment=enrolment,
        enrolment_teams=[
            {"id": t.id, "name": t.name, "department": t.department.name} for t in enrolment.teams
        ]
        if enrolment is not None
        else [],
        refusal=refusal,
        sso=settings.sso_enabled,
        provider=settings.provider_name,
        endpoint=url_for("enrolments.Enrolments"),
        # In verified rating, the page fetches the phone's tokens as soon as it is enrolled.
        tokens=token_page_data(session) if is_verified(session) else None,
    )
    return page, status


@bp.get("/enrol")
def enrol_page() -> tuple[str, int]:
    return _page()


@bp.get("/enrol/<code>")
def enrol_with_code(code: str) -> tuple[str, int]:
    """The address in an enrolment code's QR: the page with the code filled in, not yet used."""
    if len(code) > 40:
        abort(404)
    return _page(code=code)


def _client() -> Any:
    client = oidc_client()
    if client is None:
        abort(404)
    return client


@bp.get("/enrol/sso")
def sso_start() -> Any:
    client = _client()
    try:
        # Authlib keeps the state, the nonce and the PKCE verifier in the session until the callback.
        return client.authorize_redirect(callback_url("enrol.sso_callback"))
    except requests.RequestException as error:
        refusal = unreachable(error)
        return _page(refusal=refusal, status=refusal.status)


@bp.get("/enrol/sso/callback")
def sso_callback() -> Any:
    """Back from the identity provider: match its verified email to the roster and enrol this device. The page
    carries the credential to enrol.js, which keeps it; it is never shown again."""
    client = _client()
    try:
        claims = verified_claims(client, start_again=START_AGAIN)
    except SignInRefused as refusal:
        return _page(refusal=refusal, status=refusal.status)
    rt = runtime()
    session = db_session(write=True)
    try:
        enrolment = enrol_by_email(session, claims["email"], today=rt.now().astimezone(rt.settings.tz).date())
    except EnrolmentRefused as refused:
        session.rollback()
        log.info("staff enrolment: the identity provider's email is not on the roster (%s)", refused.kind)
        cannot = SignInRefused(refused.status, "This phone cannot be enrolled", refused.message)
        return _page(refusal=cannot, status=refused.status)
    session.commit()
    return _page(enrolment=enrolment)


NOT_FOUND = SignInRefused(
    404,
    "This enrolment link is not recognised",
    "Type the enrolment code from your slip below instead, or ask your manager for a new one.",
)


@bp.errorhandler(404)
def not_found(_error: Exception) -> tuple[str, int]:
    return _page(refusal=NOT_FOUND, status=404)


@bp.after_request
def protect_page(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # An enrolment code may be in the address, a credential in the page: never pass them on, never cache.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
