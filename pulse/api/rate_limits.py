"""The rate limit on the rating endpoints (PULSE_RATING_RATE_LIMIT), counted without keeping any address.

The requests of one client to the three rating endpoints are counted together, by the sign-in limiter's
flask-limiter instance in its storage (PULSE_RATELIMIT_STORAGE_URL). The counter's key is
HMAC-SHA256(secret key, "rating-limit|" + UTC date + "|" + address), cut to 128 bits: the same in every
worker, so a shared Redis adds them up; new each day; neither the address nor reversible to it without the
secret key (docs/anonymity.md A1, A5). A counter lives for one window of the limit and is then gone.

With the setting off, nothing here runs. Should the storage fail, ratings go on unlimited: a broken counter
must never stop staff from rating.

With memory:// storage (the default) the counting is done here, in fixed windows in this process's memory,
and not by limits' MemoryStorage: that starts a timer thread on nearly every hit, which cost about a tenth of
a worker's time at full ingest load (measured with py-spy, benchmarks/ingest.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, request
from flask_smorest import Blueprint
from limits import RateLimitItem, parse_many

from pulse.admin.limits import limiter
from pulse.api.problems import problem
from pulse.runtime import runtime
from pulse.schemas.problem import ProblemSchema

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

KEY_PURPOSE = "rating-limit"
KEY_PREFIX = "pulse"  # as the sign-in limits' (RATELIMIT_KEY_PREFIX), in the same storage
SCOPE = "ratings"  # one count for all three endpoints: a flood spread over them is still one flood
TOO_MANY = "Too many requests from this client address (PULSE_RATING_RATE_LIMIT); nothing was counted"
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds until this client may send ratings again",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def rating_limit_key() -> str:
    """The counter's name for the requesting address: a keyed digest of it, never the address."""
    rt = runtime()
    day = rt.now().astimezone(dt.UTC).date().isoformat()
    message = f"{KEY_PURPOSE}|{day}|{request.remote_addr or ''}".encode()
    return hmac.digest(rt.settings.secret_key.encode(), message, "sha256").hex()[:32]


@functools.cache
def _rates(setting: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(setting))


def rating_rate_limited(blp: Blueprint) -> Callable[[F], F]:
    """Limit a rating view of `blp`, and document its 429 there. Put it above flask-smorest's decorators, so a
    flood is refused before parsing."""

    def limit(view: F) -> F:
        documented = blp.alt_response(
            429, schema=ProblemSchema, description=TOO_MANY, headers=RETRY_AFTER_HEADER
        )
        view = documented(view)

        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            setting = runtime().settings.rating_limit
            if setting:
                refused = _count(setting)
                if refused is not None:
                    return refused
            return view(*args, **kwargs)

        return cast(F, checked)

    return limit


class LocalWindows:
    """Fixed-window counters in this process's memory, one window per rate: a counter is gone when its
    window ends (the whole window's counters are dropped together)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[int, int], tuple[float, dict[str, int]]] = {}

    def hit(self, rate: RateLimitItem, key: str) -> int | None:
        """Count one request under `key`: None while within `rate`, else the seconds until its window ends."""
        now = self._clock()
        length = rate.get_expiry()
        start = now - now % length
        with self._lock:
            window = self._windows.get((rate.amount, length))
            if window is None or window[0] != start:
                window = self._windows[(rate.amount, length)] = (start, {})
            counts = window[1]
            counts[key] = counts.get(key, 0) + 1
            used = counts[key]
        return None if used <= rate.amount else max(1, math.ceil(start + length - now))

    def names(self) -> list[str]:
        """Every counter's name (tests: they must never hold an address)."""
        with self._lock:
            return [name for _start, counts in self._windows.values() for name in counts]


def local_windows(app: Flask) -> LocalWindows:
    windows = app.extensions.get("pulse.rating_windows")
    if windows is None:
        windows = app.extensions["pulse.rating_windows"] = LocalWindows()
    return windows


def _count(setting: str) -> Response | None:
    """Count this request against every rate of the setting; a problem response if one is used up."""
    key = rating_limit_key()
    if runtime().settings.ratelimit_storage_url.startswith("memory://"):
        windows = local_windows(current_app)
        for rate in _rates(setting):
            wait = windows.hit(rate, key)
            if wait is not None:
                return _too_many_requests(wait)
        return None
    try:
        strategy = limiter.limiter
        for rate in _rates(setting):
            if not strategy.hit(rate, KEY_PREFIX, key, SCOPE):
                reset_at, _remaining = strategy.get_window_stats(rate, KEY_PREFIX, key, SCOPE)
                return _too_many_requests(max(1, math.ceil(reset_at - time.time())))
    except Exception as error:  # storage unreachable (Redis down): let the rating through
        log.warning("rating rate limit not counted: %s", type(error).__name__)
    return None


def _too_many_requests(wait: int) -> Response:
    return problem(
        429,
        kind="rate-limited",
        detail=(
            "Too many requests have come from your network in a short time. Nothing was counted: please "
            f"try again in {wait} seconds."
        ),
        headers={"Retry-After": str(wait)},
        extra={"retry_after": wait},
    )
