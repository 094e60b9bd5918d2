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
    org = make_org(session)
    paths = [f"/r/{org.team.join_code}", f"/r/{org.team.join_code}/privacy", "/r/nosuchcode123"]
    for path in paths:
        urls = links_in(client.get(path).get_data(as_text=True))
        assert urls, path
        for url in urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, f"{path} refers to another site: {url}"


def test_the_first_load_weighs_under_100_kb(client, session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    page = client.get(f"/r/{org.team.join_code}")
    total = len(page.data)
    assets = [url for url in links_in(page.get_data(as_text=True)) if url.startswith("/r/static/")]
    assert sorted(url.rsplit("/", 1)[1] for url in assets) == ["rate.css", "rate.js"]
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200
        total += len(asset.data)
        asset.close()
    assert total < PAGE_WEIGHT_LIMIT, f"first load is {total} bytes"
