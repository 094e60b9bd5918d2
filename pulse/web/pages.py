"""The staff rating page (/r/<join_code>) and its privacy page: server-rendered, no third-party assets."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import segno
from flask import Blueprint, Response, abort, render_template, request, url_for
from markupsafe import Markup

from pulse.runtime import db_session, runtime
from pulse.services.structure import find_team_by_join_code

if TYPE_CHECKING:
    from pulse.models.structure import Team

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    # Shorter than any join code (at least 8 characters), so it can never shadow a team's page.
    static_url_path="/r/static",
)

# Everything the pages need comes from Pulse itself; no inline script, so an injected one cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def team_or_404(join_code: str) -> Team:
    team = find_team_by_join_code(db_session(), join_code)
    if team is None:
        abort(404)
    return team


@bp.get("/r/<join_code>")
def rating_page(join_code: str) -> str:
    team = team_or_404(join_code)
    return render_template("rating/rate.html", team=team, join_code=join_code)


@bp.get("/r/<join_code>/privacy")
def privacy_page(join_code: str) -> str:
    team = team_or_404(join_code)
    return render_template(
        "rating/privacy.html", team=team, join_code=join_code, k=runtime().settings.min_group_size
    )


@bp.get("/r/<join_code>/poster")
def poster_page(join_code: str) -> str:
    """An A4 poster for the ward: the team's name, a QR code of its rating link, and how anonymity works."""
    team = team_or_404(join_code)
    link = rating_link(join_code)
    return render_template(
        "rating/poster.html", team=team, link=link, qr=qr_svg(link), k=runtime().settings.min_group_size
    )


def rating_link(join_code: str) -> str:
    base = runtime().settings.public_url.rstrip("/") or request.host_url.rstrip("/")
    return f"{base}{url_for('web.rating_page', join_code=join_code)}"


def qr_svg(text: str) -> Markup:
    """The QR code as inline SVG, drawn here by segno: no outside service ever sees the link."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out,
        kind="svg",
        scale=10,
        border=2,
        xmldecl=False,
        svgclass="qr",
        title="QR code of the team's rating link",
    )
    return Markup(out.getvalue().decode())  # noqa: S704 - segno's own SVG, built from our link only


@bp.errorhandler(404)
def team_not_found(_error: Exception) -> tuple[str, int]:
    return render_template("rating/not_found.html"), 404


@bp.after_request
def protect_page(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # The join code is in the address: never send it on to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
