"""The staff rating page (/r/<join_code>) and its privacy page: server-rendered, no third-party assets."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import segno
from flask import Blueprint, Response, abort, jsonify, render_template, url_for
from markupsafe import Markup

from pulse.access import mark_device_joined
from pulse.runtime import current_k, db_session, public_base_url, runtime
from pulse.services.kiosk import WEAKER_GUARANTEE, find_team_by_kiosk_token
from pulse.services.structure import find_team_by_join_code, list_reason_tags, list_support_links

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
    "manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def team_or_404(join_code: str) -> Team:
    team = find_team_by_join_code(db_session(), join_code)
    if team is None:
        abort(404)
    return team


@bp.get("/r/<join_code>")
def rating_page(join_code: str) -> Response:
    team = team_or_404(join_code)
    session = db_session()
    page = render_template(
        "rating/rate.html",
        team=team,
        join_code=join_code,
        reasons=list_reason_tags(session),
        support_links=list_support_links(session),
        manifest_url=url_for("web.manifest", join_code=join_code),
        k=current_k(db_session()),
    )
    # Staff who open their team's link may view the dashboard when viewing is for signed-in users only.
    return mark_device_joined(Response(page, mimetype="text/html"))


@bp.get("/r/<join_code>/manifest.webmanifest")
def manifest(join_code: str) -> Response:
    """A web app manifest per team, so "Add to home screen" opens this team's rating page."""
    team = team_or_404(join_code)
    page = url_for("web.rating_page", join_code=join_code)
    icon = url_for("web.static", filename="icon.svg")
    body = {
        "name": f"Pulse: {team.name}",
        "short_name": "Pulse",
        "description": "Rate your shift in one tap. Your rating is anonymous.",
        "lang": "en-GB",
        "start_url": page,
        "scope": "/r/",
        "id": page,
        "display": "standalone",
        "background_color": "#f5f7fa",
        "theme_color": "#005eb8",
        "icons": [
            {"src": icon, "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
            {"src": icon, "sizes": "any", "type": "image/svg+xml", "purpose": "maskable"},
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/r/sw.js")
def service_worker() -> Response:
    """The service worker, served from /r/ so that its scope covers every team's rating page."""
    response = bp.send_static_file("sw.js")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/r/"
    return response


@bp.get("/k/<kiosk_token>")
def kiosk_page(kiosk_token: str) -> str:
    """A team's shared ward tablet: three buttons that reset for the next person after each rating."""
    session = db_session()
    team = find_team_by_kiosk_token(session, kiosk_token)
    if team is None:
        abort(404)
    settings = runtime().settings
    return render_template(
        "rating/kiosk.html",
        team=team,
        kiosk_token=kiosk_token,
        endpoint=url_for("ratings.KioskRatings"),
        cooldown_seconds=settings.kiosk_cooldown_seconds,
        reset_seconds=settings.kiosk_reset_seconds,
        support_links=list_support_links(session),
        shared_device=True,
        privacy_url=url_for("web.privacy_page", join_code=team.join_code),
        weaker_guarantee=WEAKER_GUARANTEE,
        k=current_k(session),
    )


@bp.get("/r/<join_code>/privacy")
def privacy_page(join_code: str) -> str:
    team = team_or_404(join_code)
    return render_template("rating/privacy.html", team=team, join_code=join_code, k=current_k(db_session()))


@bp.get("/r/<join_code>/poster")
def poster_page(join_code: str) -> str:
    """An A4 poster for the ward: the team's name, a QR code of its rating link, and how anonymity works."""
    team = team_or_404(join_code)
    link = rating_link(join_code)
    return render_template(
        "rating/poster.html", team=team, link=link, qr=qr_svg(link), k=current_k(db_session())
    )


def rating_link(join_code: str) -> str:
    return f"{public_base_url()}{url_for('web.rating_page', join_code=join_code)}"


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
