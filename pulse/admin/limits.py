"""Rate limits on signing in (flask-limiter): in memory by default, in Redis when PULSE_RATELIMIT_STORAGE_URL
says so. Only failed attempts count, per account and per address; the rating path is never limited here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from pulse.services.accounts import normalise_email

# Per account: a password guesser spread over many addresses still stops after this many failures.
PER_ACCOUNT = "5 per 15 minutes"
# Per address: one machine trying many accounts.
PER_ADDRESS = "20 per 15 minutes"
LOCKOUT_MINUTES = 15

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


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


def account_key() -> str:
    return "account:" + normalise_email(request.form.get("email", ""))[:254]


def sign_in_failed(response: Response) -> bool:
    """Count only failures: a successful sign-in redirects (303); a failed one shows the form again (401)."""
    return response.status_code == 401
