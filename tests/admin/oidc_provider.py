"""A small, real OpenID Connect provider for tests, served over HTTP on 127.0.0.1 (a free port).

It auto-approves every sign-in as `provider.user`, and checks what a real provider checks: the client's id
and secret, the registered redirect URI, state, nonce and the PKCE S256 challenge. ID tokens are RS256-signed
JWTs. Knobs on the provider make it misbehave as the tests need (deny, a bad token, a failing endpoint).

The tokens are made with joserfc, the JOSE library Authlib 1.9 itself verifies them with: `authlib.jose` is
deprecated (a warning on import) and goes in Authlib 2.0.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask, Response, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import BaseWSGIServer, make_server

CLIENT_ID = "pulse-test-client"
CLIENT_SECRET = "pulse-test-client-secret"  # the local provider's only client
# Where the Flask test client serves Pulse; the provider redirects only to registered addresses.
PULSE_CALLBACK = "http://localhost/admin/login/sso/callback"
KEY_ID = "local-test-key"


@functools.cache
def signing_key(name: str = "provider") -> RSAKey:
    """An RSA key per name, made once per test run (a 2048-bit key takes a noticeable moment)."""
    return RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"}, private=True)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class LocalProvider:
    """The provider's state and its Flask app. `issuer` is known once it is served."""

    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = {PULSE_CALLBACK}
        self.issuer = ""
        self.user: dict[str, Any] = {
            "sub": "entra-0001",
            "email": "ward.manager@example.nhs.uk",
            "email_verified": True,
            "name": "Ward Manager",
        }
        # Misbehaviour on demand.
        self.deny = False  # refuse at /authorize (error=access_denied), as when someone presses Cancel
        self.id_token_overrides: dict[str, Any] = {}  # claims to change; None removes a claim
        self.email_in_id_token = True  # False: email claims only from /userinfo, as some providers do
        self.forge_signature = False  # sign with a key the JWKS does not hold (same kid)
        self.token_status: int | None = None  # answer /token with this HTTP status and an HTML page
        self.token_requests = 0
        self._codes: dict[str, dict[str, Any]] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app = self._make_app()

    # -- serving ------------------------------------------------------------------------------------------

    def start(self) -> None:
        # Port 0: the kernel picks a free port; the socket listens once make_server returns (no wait needed).
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        # A short poll interval: shutdown() waits up to one interval, and every test stops a provider.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="oidc-provider",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving: connections are refused from now on, as when the provider is down."""
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
        self._server = self._thread = None

    # -- the protocol -------------------------------------------------------------------------------------

    def _make_app(self) -> Flask:
        app = Flask("oidc_provider")
        app.add_url_rule("/.well-known/openid-configuration", view_func=self.discovery)
        app.add_url_rule("/authorize", view_func=self.authorize)
        app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        app.add_url_rule("/jwks", view_func=self.jwks)
        app.add_url_rule("/userinfo", view_func=self.userinfo, methods=["GET", "POST"])
        return app

    def discovery(self) -> Response:
        return jsonify(
            issuer=self.issuer,
            authorization_endpoint=f"{self.issuer}/authorize",
            token_endpoint=f"{self.issuer}/token",
            jwks_uri=f"{self.issuer}/jwks",
            userinfo_endpoint=f"{self.issuer}/userinfo",
            response_types_supported=["code"],
            grant_types_supported=["authorization_code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            scopes_supported=["openid", "email", "profile"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            code_challenge_methods_supported=["S256"],
            claims_supported=["sub", "email", "email_verified", "name"],
        )

    def authorize(self) -> Any:
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        if args.get("client_id") != self.client_id or redirect_uri not in self.redirect_uris:
            # Never redirect to an address the client did not register.
            return Response("unknown client or redirect_uri", status=400)
        state = args.get("state", "")
        problem = self._authorize_problem(args)
        if problem:
            return redirect(
                f"{redirect_uri}?{urlencode({'error': 'invalid_request', **problem, 'state': state})}"
            )
        if self.deny:
            refusal = {"error": "access_denied", "error_description": "The user cancelled", "state": state}
            return redirect(f"{redirect_uri}?{urlencode(refusal)}")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {
                "redirect_uri": redirect_uri,
                "nonce": args["nonce"],
                "code_challenge": args["code_challenge"],
                "user": dict(self.user),
            }
        return redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")

    @staticmethod
    def _authorize_problem(args: Any) -> dict[str, str]:
        if args.get("response_type") != "code":
            return {"error_description": "response_type must be code"}
        if "openid" not in args.get("scope", "").split():
            return {"error_description": "scope must include openid"}
        for name in ("state", "nonce", "code_challenge"):
            if not args.get(name):
                return {"error_description": f"{name} is required"}
        if args.get("code_challenge_method") != "S256":
            return {"error_description": "code_challenge_method must be S256"}
        return {}

    def _client_authenticated(self) -> bool:
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            given = (auth.username, auth.password)
        else:
            given = (request.form.get("client_id"), request.form.get("client_secret"))
        return secrets.compare_digest(str(given[0]), self.client_id) and secrets.compare_digest(
            str(given[1]), self.client_secret
        )

    def token(self) -> Any:
        self.token_requests += 1
        if self.token_status is not None:
            return Response("<h1>Service unavailable</h1>", status=self.token_status, mimetype="text/html")
        if not self._client_authenticated():
            return jsonify(error="invalid_client"), 401
        form = request.form
        if form.get("grant_type") != "authorization_code":
            return jsonify(error="unsupported_grant_type"), 400
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return jsonify(error="invalid_grant"), 400
        verifier = form.get("code_verifier", "")
        if not verifier or not secrets.compare_digest(s256(verifier), grant["code_challenge"]):
            return jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._access_tokens[access_token] = grant["user"]
        return jsonify(
            access_token=access_token,
            token_type="Bearer",
            expires_in=300,
            id_token=self._id_token(grant["user"], grant["nonce"]),
        )

    def _id_token(self, user: dict[str, Any], nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": user["sub"],
            "nonce": nonce,
            "iat": now,
            "exp": now + 300,
        }
        if self.email_in_id_token:
            claims.update({k: user[k] for k in ("email", "email_verified", "xms_edov", "name") if k in user})
        for name, value in self.id_token_overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = signing_key("forger" if self.forge_signature else "provider")
        return jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, key)

    def jwks(self) -> Response:
        return jsonify(keys=[signing_key("provider").as_dict(private=False)])

    def userinfo(self) -> Any:
        auth = request.headers.get("Authorization", "")
        user = self._access_tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if user is None:
            return jsonify(error="invalid_token"), 401
        return jsonify({k: user[k] for k in ("sub", "email", "email_verified", "name") if k in user})


@contextmanager
def serve_provider() -> Iterator[LocalProvider]:
    provider = LocalProvider()
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(name="oidc_provider")
def oidc_provider_fixture() -> Iterator[LocalProvider]:
    """A running local provider; import this fixture function to use `oidc_provider` in a test module."""
    with serve_provider() as provider:
        yield provider
