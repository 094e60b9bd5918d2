"""The staff rating page (/r/<join_code>) and its privacy page: server-rendered, no third-party assets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from pulse import qr
from pulse.access import mark_device_joined
from pulse.headers import page_policy
from pulse.runtime import current_k, db_session, public_base_url, runtime
from pulse.services.rating.kiosk import WEAKER_GUARANTEE, find_team_by_kiosk_token
from pulse.services.shifts import open_shift
from pulse.services.structure import (
    find_team_by_join_code,
    list_reason_tags,
    list_shift_bands,
    list_support_links,
)
from pulse.web.verified import is_verified, token_page_data

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

# Everything the pages need comes from Pulse itself, the installable app's manifest and offline worker too;
# the pages post no form.
CONTENT_SECURITY_POLICY = page_policy("manifest-src 'self'", "worker-src 'self'", "form-action 'none'")


def team_or_404(join_code: str) -> Team:
    """The team with this code; a code typed loosely from a poster (lower case, O for 0) goes to the page's
    own address, so that the page, its saved copy and its ratings all use the code as stored."""
    team = find_team_by_join_code(db_session(), join_code)
    if team is None:
        abort(404)
    if team.join_code != join_code:
        assert request.endpoint is not None
        abort(
            redirect(url_for(request.endpoint, **{**(request.view_args or {}), "join_code": team.join_code}))
        )
    return team


@bp.get("/r/<join_code>")
def rating_page(join_code: str) -> Response:
    team = team_or_404(join_code)
    session = db_session()
    verified = is_verified(session)
    page = render_template(
        "rating/rate.html",
        team=team,
        join_code=join_code,
        verified=verified,
        tokens=token_page_data(session) if verified else None,
        shift=_open_shift(session),
        reasons=list_reason_tags(session),
        support_links=list_support_links(session),
        manifest_url=url_for("web.manifest", join_code=join_code),
        k=current_k(db_session()),
    )
    # Staff who open their team's link may view the dashboard when viewing is for signed-in users only.
    return mark_device_joined(Response(page, mimetype="text/html"))


def _open_shift(session: Any) -> dict[str, Any] | None:
    """The shift a tap now would count for, and until when (ms since the epoch: the page's clock reads it),
    so that the page can tell a phone that has rated it already before anyone taps."""
    settings = runtime().settings
    grace = settings.grace
    shift = open_shift(list_shift_bands(session), runtime().now(), settings.tz, grace)
    if shift is None:
        return None
    until = shift.ends_at + grace
    return {
        "date": shift.shift_date.isoformat(),
        "band": shift.band_name,
        "until": int(until.timestamp() * 1000),
    }


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
    session = db_session()
    return render_template(
        "rating/privacy.html",
        team=team,
        join_code=join_code,
        k=current_k(session),
        verified=is_verified(session),
    )


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
    """The poster's QR code: scales to the size CSS gives it, with its whole quiet zone (pulse.qr)."""
    return qr.qr_svg(text, "QR code of the team's rating link")


@bp.app_template_global()
def support_contact(label: str, url: str) -> str:
    """How to reach a support link on a shared tablet, where it is not a link: "call 116 123", "email x",
    or the site's address; nothing more where the label already says it ("Samaritans: call 116 123")."""
    if url.startswith("tel:"):
        number = url.removeprefix("tel:")
        digits = "".join(c for c in number if c.isdigit())
        if digits and digits in "".join(c for c in label if c.isdigit()):
            return ""
        return f"call {_spaced(number)}"
    if url.startswith("mailto:"):
        address = url.removeprefix("mailto:").split("?")[0]
        return "" if address in label else f"email {address}"
    address = url.split("://", 1)[-1].rstrip("/")
    return "" if address in label else address


def _spaced(number: str) -> str:
    """A UK number as people say it: 116 123 and 0800 123 4567; anything else as written."""
    if number.isdigit() and len(number) == 6:
        return f"{number[:3]} {number[3:]}"
    if number.isdigit() and len(number) == 11:
        return f"{number[:4]} {number[4:7]} {number[7:]}"
    return number


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
