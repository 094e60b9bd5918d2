"""The staff rating page and its privacy page, through the test client: the right team, a friendly 404 for
unknown or replaced links, k on the privacy page, nothing loaded from elsewhere, and a light first load."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from pulse.services import structure
from tests.factories import Org, make_org

PAGE_WEIGHT_LIMIT = 100_000
NOT_RECOGNISED = (
    "This team link is not recognised. It may have been replaced; ask your manager for the new poster."
)


class Links(HTMLParser):
    """Every src and href in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value is not None]


def links_in(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


def test_the_page_names_the_team_and_asks_the_question(client, session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    response = client.get(f"/r/{org.team.join_code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert org.team.name in html
    assert "How was your shift?" in html
    for word in ("Good shift", "OK shift", "Tough shift"):
        assert word in html
    assert html.count("<svg") == 3, "each button has an icon as well as its colour"
    assert f'data-join-code="{org.team.join_code}"' in html
    assert f'href="/r/{org.team.join_code}/privacy"' in html
    assert 'href="/dashboard/"' in html


def test_the_page_runs_under_a_strict_content_security_policy(client, session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    response = client.get(f"/r/{org.team.join_code}")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " on" + "click=" not in html, "no inline script"
    assert " style=" not in html, "no inline style"


def test_an_unknown_code_gets_a_friendly_404(client, session) -> None:  # type: ignore[no-untyped-def]
    make_org(session)
    for path in ("/r/nosuchcode123", "/r/nosuchcode123/privacy"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert NOT_RECOGNISED in response.get_data(as_text=True)


def test_a_replaced_code_gets_the_404_and_the_new_one_works(client, session) -> None:  # type: ignore[no-untyped-def]
    org: Org = make_org(session)
    old = org.team.join_code
    new = structure.rotate_join_code(session, org.team)
    session.commit()
    assert old != new
    old_page = client.get(f"/r/{old}")
    assert old_page.status_code == 404
    assert NOT_RECOGNISED in old_page.get_data(as_text=True)
    assert client.get(f"/r/{new}").status_code == 200


def test_an_inactive_team_gets_the_404(client, session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    org.team.active = False
    session.commit()
    assert client.get(f"/r/{org.team.join_code}").status_code == 404


def test_the_privacy_page_states_k(client, session, app) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    k = app.extensions["pulse"].settings.min_group_size
    response = client.get(f"/r/{org.team.join_code}/privacy")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "How your rating is protected" in html
    assert f"If fewer than {k} people rated, a figure is not shown." in html
    assert "We never store your rating on its own." in html


def test_no_page_loads_or_links_anything_from_elsewhere(client, session) -> None:  # type: ignore[no-untyped-def]
    """Only support links (configured by the organisation, shown after a tough shift) lead elsewhere."""
    org = make_org(session)
    paths = [f"/r/{org.team.join_code}", f"/r/{org.team.join_code}/privacy", "/r/nosuchcode123"]
    for path in paths:
        urls = links_in(client.get(path).get_data(as_text=True))
        assert urls, path
        for url in urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, f"{path} refers to another site: {url}"


def test_the_first_load_weighs_under_100_kb(client, session) -> None:  # type: ignore[no-untyped-def]
    """The page, its style and script, its manifest and its service worker; the icon set is not counted."""
    org = make_org(session)
    page = client.get(f"/r/{org.team.join_code}")
    total = len(page.data)
    assets = [url for url in links_in(page.get_data(as_text=True)) if url.startswith("/r/")]
    names = {url.rsplit("/", 1)[1] for url in assets}
    assert {"rate.css", "rate.js", "manifest.webmanifest"} <= names
    assets = [url for url in assets if not url.rsplit("/", 1)[1].startswith("icon")]
    assets.append("/r/sw.js")
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200
        total += len(asset.data)
        asset.close()
    assert total < PAGE_WEIGHT_LIMIT, f"first load is {total} bytes"


def test_the_manifest_installs_this_teams_page(client, session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    response = client.get(f"/r/{org.team.join_code}/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["start_url"] == f"/r/{org.team.join_code}"
    assert manifest["scope"] == "/r/" and manifest["display"] == "standalone"
    assert manifest["name"] == f"Pulse: {org.team.name}"
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
    assert client.get("/r/nosuchcode123/manifest.webmanifest").status_code == 404


def test_the_service_worker_is_served_for_the_whole_rating_path(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/r/sw.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Service-Worker-Allowed"] == "/r/"
    assert "no-cache" in response.headers["Cache-Control"]
    assert "/api/" in response.get_data(as_text=True), "the worker must know to leave the API alone"


def test_reasons_and_support_links_are_on_the_page(client, session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    structure.add_support_link(session, "Staff wellbeing", "https://wellbeing.example.org/", "Talk to us.")
    structure.add_support_link(session, "Samaritans", "tel:116123")
    session.commit()
    html = client.get(f"/r/{org.team.join_code}").get_data(as_text=True)
    for tag in org.tags:
        assert tag.label in html
    assert "Staff wellbeing" in html and "Talk to us." in html and 'href="tel:116123"' in html
    assert 'rel="noopener noreferrer"' in html


def test_no_support_links_falls_back_to_a_plain_sentence(client, session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    html = client.get(f"/r/{org.team.join_code}").get_data(as_text=True)
    assert "talk to your manager or your organisation's wellbeing service" in html


def test_a_retired_support_link_is_not_shown(client, session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    link = structure.add_support_link(session, "Old helpline", "https://old.example.org/")
    structure.retire_support_link(session, link.id)
    session.commit()
    assert "Old helpline" not in client.get(f"/r/{org.team.join_code}").get_data(as_text=True)


def test_the_kiosk_page_states_the_weaker_guarantee(client, session) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import enable_kiosk

    org = make_org(session)
    token = enable_kiosk(session, org.team)
    response = client.get(f"/k/{token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert org.team.name in html and "Each tap counts as one person" in html
    from pulse.services import structure as structure_service

    structure_service.add_support_link(session, "Wellbeing", "https://wellbeing.example.org/")
    structure_service.add_support_link(session, "Samaritans", "tel:116123")
    structure_service.add_support_link(session, "Samaritans: call 116 123", "tel:116123")
    session.commit()
    shown = client.get(f"/k/{token}").get_data(as_text=True)
    assert (
        "Wellbeing</strong>: wellbeing.example.org" in shown and "Samaritans</strong>: call 116 123" in shown
    )
    assert "Samaritans: call 116 123</strong>\n" in shown and "call 116123" not in shown, "said once"
    assert 'href="https://wellbeing.example.org/"' not in shown, "no support site left open"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "device-secret" not in html
    org.team.kiosk_token = None
    session.commit()
    assert client.get(f"/k/{token}").status_code == 404


def test_a_code_typed_loosely_from_a_poster_opens_the_team_page(client, session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    org.team.join_code = "7QF0KX1NB3WEA"
    session.commit()
    typed = client.get("/r/7qfokx1nb3wea")
    assert typed.status_code == 302 and typed.location.endswith("/r/7QF0KX1NB3WEA")
    assert client.get("/r/7qf0kx1nb3wea/poster").location.endswith("/r/7QF0KX1NB3WEA/poster")
    assert client.get("/r/7QF0KX1NB3WEA").status_code == 200
    assert client.get("/r/7QF0KX1NB3WEB").status_code == 404
