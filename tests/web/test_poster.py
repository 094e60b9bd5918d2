"""The team's A4 poster: its name, a QR code of its rating link drawn by Pulse, and how anonymity works."""

from __future__ import annotations

import io
import re

import segno

from pulse import create_app
from tests.factories import make_org


def qr_paths(svg: str) -> list[str]:
    return re.findall(r' d="([^"]+)"', svg)


def test_poster_shows_the_team_and_a_qr_code_of_its_link(client, session) -> None:
    org = make_org(session)
    response = client.get(f"/r/{org.team.join_code}/poster")
    html = response.get_data(as_text=True)
    link = f"http://localhost/r/{org.team.join_code}"
    assert response.status_code == 200
    assert "Team 1" in html and link in html
    assert "no figure is shown for fewer than 5 people" in html
    expected = io.BytesIO()
    segno.make(link, error="m").save(expected, kind="svg", border=4, omitsize=True, xmldecl=False)
    assert qr_paths(html) == qr_paths(expected.getvalue().decode()), "the QR code encodes exactly the link"


def test_poster_uses_the_configured_public_address(clean_db, database_url: str, session) -> None:
    org = make_org(session)
    app = create_app(
        {"database_url": database_url, "dashboard": False, "public_url": "https://pulse.example.nhs.uk/"}
    )
    html = app.test_client().get(f"/r/{org.team.join_code}/poster").get_data(as_text=True)
    assert f"https://pulse.example.nhs.uk/r/{org.team.join_code}" in html
    app.extensions["pulse"].engine.dispose()


def test_poster_for_an_unknown_or_rotated_code_is_404(client, session) -> None:
    make_org(session)
    assert client.get("/r/NoSuchTeamCode123/poster").status_code == 404
