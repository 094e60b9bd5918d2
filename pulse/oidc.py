"""The organisation's identity provider: one OpenID Connect client (Authlib; authorisation code flow with
PKCE), and the verified claims of a sign-in. The admin area's single sign-on and staff enrolment both use it,
with the same settings; each has its own callback address, registered at the provider.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, url_for
from joserfc.errors import JoseError

from pulse.runtime import runtime

log = logging.getLogger(__name__)

CLIENT = "pulse_sso_client"  # the app.extensions key of the registered OpenID Connect client
SCOPE = "openid email profile"
# Seconds to wait for the identity provider: a worker must not hang on a provider that has gone quiet.
PROVIDER_TIMEOUT = 10
START_AGAIN = "Go back to the sign-in page and try again."


class SignInRefused(Exception):
    """Signing in at the identity provider cannot finish; the message is shown to the person signing in."""

    def __init__(self, status: int, title: str, message: str):
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def init_oidc(app: Flask) -> None:
    """Register the identity provider for this app, only when single sign-on is configured. The provider's
    metadata and keys are fetched on first use, so Pulse starts even while the provider is unreachable."""
    settings = app.extensions["pulse"].settings
    if not settings.sso_enabled:
        return
    oauth = OAuth(app)
    app.extensions[CLIENT] = oauth.register(
        "oidc",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": PROVIDER_TIMEOUT},
    )


def oidc_client() -> Any | None:
    """The registered client, or None when single sign-on is not configured."""
    return current_app.extensions.get(CLIENT)


def callback_url(endpoint: str) -> str:
    """A callback address as registered at the identity provider: under PULSE_PUBLIC_URL when set (behind a
    proxy), else this request's own address."""
    base = runtime().settings.public_url.rstrip("/")
    if base:
        return base + url_for(endpoint)
    return url_for(endpoint, _external=True)


def unreachable(error: Exception) -> SignInRefused:
    log.warning("single sign-on: the identity provider did not answer properly (%s)", type(error).__name__)
    return SignInRefused(
        502,
        "Your organisation's sign-in service did not answer",
        "Pulse could not reach your organisation's sign-in service, or did not understand its answer. "
        "Try again in a few minutes; if it keeps happening, tell your IT service desk.",
    )


def verified_claims(client: Any, *, start_again: str = START_AGAIN) -> dict[str, Any]:
    """The identity provider's claims about the person, once Authlib has checked the state, exchanged the
    code (with the PKCE verifier) and validated the ID token: signature, issuer, audience, nonce, expiry.
    Raises SignInRefused unless the claims hold an email the provider says is verified."""
    settings = runtime().settings
    issuer = settings.oidc_issuer
    # Authlib checks aud only when told to (otherwise only azp); iss against the configured issuer, not merely
    # whatever the discovery document says.
    claims_options = {
        "iss": {"essential": True, "values": sorted({issuer, issuer.rstrip("/")})},
        "aud": {"essential": True, "value": settings.oidc_client_id},
    }
    try:
        token = client.authorize_access_token(claims_options=claims_options)
        claims = dict(token.get("userinfo") or {})
        if not claims:
            log.warning(
                "single sign-on: the token response held no ID token (is the provider OpenID Connect?)"
            )
            raise SignInRefused(
                502,
                "Your organisation's sign-in service did not answer",
                "Your organisation's sign-in service did not say who you are. Tell your IT service desk.",
            )
        if "email" not in claims or ("email_verified" not in claims and "xms_edov" not in claims):
            claims.update(_userinfo_claims(client, token, claims["sub"]))
    except MismatchingStateError as error:
        log.info("single sign-on: callback with an unknown or reused state")
        raise SignInRefused(
            400,
            "This sign-in has expired",
            "This sign-in link has expired, was already used, or was started in another browser. "
            + start_again,
        ) from error
    except OAuthError as error:
        log.info("single sign-on: the identity provider refused (%s)", error.error)
        if error.error == "access_denied":
            message = (
                f"Signing in was cancelled or refused at your organisation's sign-in page. {start_again}"
            )
        else:
            message = f"Your organisation's sign-in service could not complete the sign-in. {start_again}"
        raise SignInRefused(400, "You are not signed in", message) from error
    except (JoseError, AuthlibBaseError) as error:
        log.warning("single sign-on: the ID token was refused (%s)", error)
        raise SignInRefused(
            400,
            "You are not signed in",
            f"Pulse could not verify the answer from your organisation's sign-in service. {start_again}",
        ) from error
    except requests.RequestException as error:
        raise unreachable(error) from error
    # Some providers send the boolean as a string ("true"); anything else is not a verified address.
    # Microsoft Entra ID sends no email_verified for organisational accounts; its optional claim xms_edov
    # ("email domain owner verified", to be enabled in the app registration) says the same thing.
    verified = claims.get("email_verified", claims.get("xms_edov"))
    if not isinstance(claims.get("email"), str) or not (verified is True or verified == "true"):
        log.info("single sign-on: the identity provider gave no verified email")
        raise SignInRefused(
            403,
            "You cannot sign in to Pulse yet",
            "Your organisation's sign-in service did not confirm your email address, so Pulse cannot tell "
            "which account is yours. Ask your IT service desk to verify the email of your organisation "
            "account.",
        )
    return claims


def _userinfo_claims(client: Any, token: dict[str, Any], subject: str) -> dict[str, Any]:
    """Email claims from the UserInfo endpoint, for providers that leave them out of the ID token. They count
    only for the same person (the same sub) as the validated ID token (OpenID Connect Core 5.3.2)."""
    info = dict(client.userinfo(token=token))
    if info.get("sub") != subject:
        raise OAuthError(error="userinfo_subject_mismatch")
    return {key: info[key] for key in ("email", "email_verified") if key in info}
