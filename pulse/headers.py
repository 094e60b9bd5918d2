"""Security headers on every response; pages with their own Content-Security-Policy keep it."""

from __future__ import annotations

from flask import Flask, Response, request

# HSTS for a year once Pulse is reached over TLS (directly, or through a proxy that says so).
HSTS = "max-age=31536000; includeSubDomains"
# Anything without a policy of its own (API answers, the API docs) may be framed by nobody.
DEFAULT_CSP = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"


def page_policy(*own: str) -> str:
    """The Content-Security-Policy of Pulse's own server-rendered pages (the admin area, the rating pages):
    scripts, styles, images and requests from Pulse alone, with no inline script, so an injected one cannot
    run; no <base>; framed by nobody. `own` adds what one set of pages needs beyond that."""
    self_only = (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
    )
    return "; ".join((*self_only, *own, "base-uri 'none'", "frame-ancestors 'none'"))


def init_headers(app: Flask) -> None:
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
