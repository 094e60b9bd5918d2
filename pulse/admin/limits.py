"""Limits on signing in, that a stranger cannot turn against the account they name.

Failed sign-ins are counted per account *and client*, and each failure past the first few pauses that pair for
twice as long as the one before (exponential back-off). The client is the browser, when it carries the signed
device cookie this account was given at an earlier sign-in (OWASP's "device cookies"), and otherwise the
address. So someone guessing from elsewhere, or from the same hospital network, pauses only their own
attempts: the person whose account it is still signs in from their usual browser. A separate limit per
address (flask-limiter) stops one machine trying many accounts; a known device is exempt from it too.

The counters live in flask-limiter's storage (PULSE_RATELIMIT_STORAGE_URL): memory:// in one process, Redis
to share them between gunicorn workers, which production requires (otherwise each worker counts on its own
and a guesser gets the allowance once per worker). They are keyed by a digest of the email, never the email.
Should the storage fail, sign-ins are not counted (a warning is logged) rather than refused for everyone.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from pulse.runtime import runtime
from pulse.services.accounts import normalise_email

log = logging.getLogger(__name__)

# Per address: one machine trying many accounts (a browser this account knows is exempt).
PER_ADDRESS = "20 per 15 minutes"
# Per account and client: this many failures are free; then a pause of FIRST_PAUSE seconds, doubling with each
# further failure up to MAX_PAUSE. A failure is remembered for FAILURE_MEMORY seconds after the first.
FREE_FAILURES = 5
FIRST_PAUSE = 60
MAX_PAUSE = 60 * 60
FAILURE_MEMORY = 24 * 60 * 60
DEVICE_COOKIE = "pulse_signin_device"
DEVICE_DAYS = 180

# No X-RateLimit-* headers: the sign-in pages set Retry-After themselves, from the pause that applies.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


@limiter.request_filter
def _outside_admin() -> bool:
    """The limiter's own checks guard the admin area's sign-in only (the rating limit counts by itself:
    pulse.api.rate_limits)."""
    return not request.path.startswith("/admin/")


def init_limits(app: Flask) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = app.extensions["pulse"].settings.ratelimit_storage_url
    app.config["RATELIMIT_KEY_PREFIX"] = "pulse"
    limiter.init_app(app)
    _only_under_admin(app)


def _only_under_admin(app: Flask) -> None:
    """Run the request hooks flask-limiter adds only for /admin/ requests. Its request filter (above) is asked
    only after it has looked the endpoint up, which cost about 5% of a worker's time per rating at full
    ingest load (py-spy, benchmarks/ingest.py). The sign-in limits are decorators under /admin/ and are
    counted by the decorators themselves, so nothing else changes."""

    def under_admin(hook: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(hook)
        def gated(*args: Any) -> Any:
            if request.path.startswith("/admin/"):
                return hook(*args)
            return args[0] if args else None  # an after_request hook hands the response on

        return gated

    hooks: list[list[Callable[..., Any]]] = [app.before_request_funcs[None], app.after_request_funcs[None]]
    for funcs in hooks:
        for i, hook in enumerate(funcs):
            if getattr(hook, "__self__", None) is limiter or getattr(hook, "args", ())[:1] == (limiter,):
                funcs[i] = under_admin(hook)


def sign_in_failed(response: Response) -> bool:
    """Count only failures: a successful sign-in redirects (303); a failed one shows the form again (401)."""
    return response.status_code == 401


def pause_after(failures: int) -> int:
    """Seconds a pair (account, client) waits after its n-th failure: none for the first FREE_FAILURES - 1,
    then FIRST_PAUSE, doubling with each failure, at most MAX_PAUSE."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_PAUSE * 2 ** min(failures - FREE_FAILURES, 16), MAX_PAUSE)


def account_digest(email: str) -> str:
    """The account as the counters and the device cookie name it: a keyed digest, never the email."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"sign-in|" + normalise_email(email).encode(), hashlib.sha256).hexdigest()[:32]


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="pulse-sign-in-device")


def device_cookie_name() -> str:
    """Under HTTPS, __Secure-: a browser keeps it only if it came over HTTPS, Secure. Its path is the admin
    area's, so it never travels with a rating."""
    return ("__Secure-" if runtime().settings.secure_cookies else "") + DEVICE_COOKIE


def known_device(email: str | None = None) -> str | None:
    """The id of this browser, if it carries the device cookie of the account it is signing in to."""
    email = request.form.get("email", "") if email is None else email
    raw = request.cookies.get(device_cookie_name())
    if not raw or not email:
        return None
    try:
        account, device = _devices().loads(raw, max_age=DEVICE_DAYS * 24 * 60 * 60)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(device, str) or not hmac.compare_digest(str(account), account_digest(email)):
        return None
    return device


def is_known_device() -> bool:
    """flask-limiter's exempt_when for the per-address limit."""
    return known_device() is not None


def remember_device(response: BaseResponse, email: str) -> BaseResponse:
    """After a successful sign-in: this browser becomes a known device of the account (it keeps its id)."""
    device = known_device(email) or secrets.token_urlsafe(16)
    response.set_cookie(
        device_cookie_name(),
        _devices().dumps([account_digest(email), device]),
        max_age=DEVICE_DAYS * 24 * 60 * 60,
        path="/admin/",
        httponly=True,
        samesite="Strict",
        secure=runtime().settings.secure_cookies,
    )
    return response


class SignInAttempts:
    """The failures of one account from one client (a known device, else an address)."""

    def __init__(self, email: str):
        device = known_device(email)
        client = f"device:{device}" if device else f"address:{get_remote_address()}"
        self.key = f"pulse:sign-in:{account_digest(email)}:{client}"
        self.pause_key = self.key + ":paused"

    def paused_for(self) -> int:
        """Seconds until this client may try this account again; 0 when it may now."""
        try:
            storage = limiter.storage
            if not storage.get(self.pause_key):
                return 0
            return max(1, math.ceil(storage.get_expiry(self.pause_key) - time.time()))
        except Exception as error:  # storage unreachable (Redis down): do not lock everyone out
            log.warning("sign-in limits not checked: %s", type(error).__name__)
            return 0

    def failed(self) -> None:
        try:
            storage = limiter.storage
            pause = pause_after(storage.incr(self.key, FAILURE_MEMORY))
            if pause:
                storage.clear(self.pause_key)
                storage.incr(self.pause_key, pause)
        except Exception as error:
            log.warning("failed sign-in not counted: %s", type(error).__name__)

    def succeeded(self) -> None:
        try:
            limiter.storage.clear(self.key)
        except Exception as error:
            log.warning("sign-in limits not cleared: %s", type(error).__name__)
