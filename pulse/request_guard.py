"""Requests that no page can use are refused before they reach one: a NUL character in the address or the
query. PostgreSQL cannot store or compare text with NUL in it (psycopg refuses it, which would be a 500), and
no join code, kiosk token or query value in Pulse ever holds one. Forms are left to their schemas, which
refuse a NUL beside the field that holds it (pulse.schemas.text); the API's schemas refuse what they cannot
use, so its requests skip this check and the rating path stays as short as it is.
"""

from __future__ import annotations

from flask import Flask, abort, request

NUL = "\x00"


def init_request_guard(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul)  # before every other hook


def refuse_nul() -> None:
    path = request.path
    if path.startswith("/api/"):
        return
    if NUL in path:
        abort(404)
    if any(NUL in key or NUL in value for key, value in request.args.items(multi=True)):
        abort(400, "The address holds a character that is never used in Pulse.")
