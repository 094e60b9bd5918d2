"""Pulse: anonymous end-of-shift staff morale. create_app() wires the pieces together, nothing more."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from pulse.clock import utcnow
from pulse.config import Settings
from pulse.db import ensure_sqlite_directory, make_engine, make_session_factory
from pulse.runtime import Runtime, close_db_session


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a Pulse app. `config` overrides settings by field name; "now" replaces the clock (tests)."""
    overrides = dict(config or {})
    now = overrides.pop("now", utcnow)
    mount_dashboard = overrides.pop("dashboard", True)
    settings = Settings.from_env(**overrides)
    if not settings.secret_key:  # never in production: Settings refuses that
        from pulse.secret_key import load_or_create

        settings = dataclasses.replace(settings, secret_key=load_or_create(settings.data_dir))

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        TRUSTED_HOSTS=settings.allowed_hosts,
        JSON_SORT_KEYS=False,
    )
    ensure_sqlite_directory(settings.database_url)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    read_engine, read_sessions = None, None
    if settings.read_database_url:
        # Published figures only, read-only on PostgreSQL (as a hot standby is anyway): nothing writes there.
        read_engine = make_engine(settings.read_database_url, pool_size=settings.db_pool_size)
        read_engine = read_engine.execution_options(postgresql_readonly=True)
        read_sessions = make_session_factory(read_engine)
    app.extensions["pulse"] = Runtime(
        settings,
        engine,
        make_session_factory(engine),
        make_session_factory(engine, write=True),
        now,
        read_engine=read_engine,
        read_session_factory=read_sessions,
    )
    app.teardown_appcontext(close_db_session)

    from pulse.access import init_access
    from pulse.admin import init_admin
    from pulse.api import init_api
    from pulse.headers import init_headers
    from pulse.oidc import init_oidc
    from pulse.request_guard import init_request_guard
    from pulse.web.enrol import bp as enrol_bp
    from pulse.web.pages import bp as web_bp

    init_api(app)
    app.register_blueprint(web_bp)
    app.register_blueprint(enrol_bp)
    init_oidc(app)
    init_admin(app)
    init_access(app)
    init_headers(app)
    init_request_guard(app)

    if mount_dashboard:
        from dashboard import create_dash

        create_dash(app)
    if settings.proxy_hops:
        # Behind reverse proxies, the client's address and scheme are the ones they forward: rate limits then
        # count each client, not the proxy. Only as many hops as configured are trusted (PULSE_PROXY_HOPS).
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # The app's many long-lived objects (routes, schemas, Dash components) need never be collected; freezing
    # them keeps full garbage collections from pausing requests for tens of milliseconds.
    gc.freeze()
    return app
