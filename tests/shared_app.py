"""One Pulse app per test worker and kind, lent to each test in turn and put back as a fresh one would be.

Building an app (routes, schemas, the admin area, Dash) took about 70 ms of a typical test's 120 ms. Apps are
built the same way for most tests, so each worker builds one of each kind the first time a test needs it, and
before every test sets back everything a test or a request can change:

- the clock (the test's own FakeClock) and the data folder (the test's own, where a fresh app would have one);
- what the app keeps per process: the rating path (its keys, the inbox epoch, PostgreSQL's direct connection),
  the token seeds, and the rating rate limit's windows;
- the sign-in limiter's storage, which flask-limiter keeps on its one module-level Limiter and which another
  test's app may have pointed at Redis;
- `app.config`, as it stood when the app was built.

After each test the engine's pool is closed, so no connection outlives the test (as when each test disposed
of its own app). The database itself is emptied by `clean_db`, as before.

A test that changes the app itself (a new route or request hook) cannot share it: Flask refuses such changes
once an app has served a request, and a shared app is marked as having done so from the start, so the refusal
does not depend on the order tests run in. Mark such a test `own_app`, and the `app` fixture builds it one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from limits.storage import storage_from_string
from limits.strategies import STRATEGIES

from pulse import create_app
from pulse.admin.limits import limiter
from pulse.config import Settings
from pulse.runtime import Runtime

# What an app keeps in app.extensions once it has served a rating or a token (pulse.api.ratings, .tokens,
# .rate_limits): a fresh app has none of them.
PER_PROCESS = ("pulse.rating_path", "pulse.token_seeds", "pulse.rating_windows")


@dataclasses.dataclass
class SharedApp:
    app: Flask
    settings: Settings
    config: dict[str, Any]

    @classmethod
    def build(cls, settings: Mapping[str, Any], prepare: Callable[[Flask], None] | None = None) -> SharedApp:
        app = create_app(dict(settings))
        if prepare is not None:
            prepare(app)
        # As if it had served a request already (see the module's docstring).
        app._got_first_request = True
        return cls(app, app.extensions["pulse"].settings, dict(app.config))

    @contextmanager
    def lent(self, now: Callable[[], Any], data_dir: Path | None = None) -> Iterator[Flask]:
        """The app as a fresh one, for one test: on the test's clock and, if given, its data folder."""
        runtime: Runtime = self.app.extensions["pulse"]
        runtime.now = now
        runtime.settings = (
            self.settings if data_dir is None else dataclasses.replace(self.settings, data_dir=data_dir)
        )
        for name in PER_PROCESS:
            self.app.extensions.pop(name, None)
        self.app.config.clear()
        self.app.config.update(self.config)
        _fresh_limiter_storage(self.app)
        try:
            yield self.app
        finally:
            # Closes the pool, and with it the rating path's direct PostgreSQL connection (it listens).
            runtime.engine.dispose()


def _fresh_limiter_storage(app: Flask) -> None:
    """Point the sign-in limiter at new, empty storage of the app's kind, as Limiter.init_app does (it cannot
    be called again: it adds request hooks, which Flask refuses once an app has served a request)."""
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    limiter._storage = storage
    limiter._limiter = STRATEGIES[limiter._strategy or "fixed-window"](storage)


class SharedApps:
    """A worker's shared apps, by kind, each built the first time a test asks for it."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._apps: dict[str, SharedApp] = {}

    def get(
        self, kind: str, settings: Mapping[str, Any], prepare: Callable[[Flask], None] | None = None
    ) -> SharedApp:
        if kind not in self._apps:
            self._apps[kind] = SharedApp.build({"database_url": self.database_url, **settings}, prepare)
        return self._apps[kind]

    def close(self) -> None:
        for shared in self._apps.values():
            shared.app.extensions["pulse"].engine.dispose()
