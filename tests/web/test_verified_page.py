"""The rating page in each mode, through the test client: it says which mode the team's figures come from;
in verified mode it carries what the phone needs for its tokens (the weeks whose keys are published, the
open slot from now to the end of next week) and no buttons until its script finds the open shift's token."""

from __future__ import annotations

import datetime as dt
import json
from html.parser import HTMLParser

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from pulse.models import RatingMode
from pulse.services.organisation import set_rating_mode
from tests.factories import make_org
from tests.web.test_rating_page import links_in


class Panel(HTMLParser):
    """The rating panel's data attributes, and which elements carry `hidden`, by id."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self.hidden: dict[str, bool] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-join-code" in found:
            self.data = {k: v or "" for k, v in found.items() if k.startswith("data-")}
        if found.get("id"):
            self.hidden[str(found["id"])] = "hidden" in found


def panel_of(client: FlaskClient, join_code: str) -> tuple[Panel, str]:
    html = client.get(f"/r/{join_code}").get_data(as_text=True)
    parser = Panel()
    parser.feed(html)
    return parser, html


def test_an_open_page_says_anyone_with_the_link_can_rate(client: FlaskClient, session: Session) -> None:
    org = make_org(session)
    panel, html = panel_of(client, org.team.join_code)
    assert panel.data["data-mode"] == "open"
    assert "Open rating." in html and "someone with the link could add ratings of their own" in html
    assert "data-slots" not in html and "verified-rate.js" not in html
    assert panel.hidden.get("enrol-needed") is None, "no enrolment on an open page"


def test_a_verified_page_carries_the_timeline_and_keeps_the_buttons_for_its_script(
    client: FlaskClient, session: Session
) -> None:
    org = make_org(session)
    set_rating_mode(session, RatingMode.VERIFIED, since=dt.date(2026, 11, 1))
    session.commit()
    panel, html = panel_of(client, org.team.join_code)
    assert panel.data["data-mode"] == "verified"
    assert "Verified rating." in html and "Only people on this team's staff list can rate" in html
    assert panel.data["data-team-id"] == str(org.team.id)
    assert panel.data["data-weeks"] == "2026-11-16 2026-11-23"  # the test clock: Wednesday 18 November
    assert panel.data["data-keys-endpoint"] == "/api/v1/token-keys"
    assert panel.data["data-tokens-endpoint"] == "/api/v1/tokens"
    slots = json.loads(panel.data["data-slots"])
    assert (slots[0]["date"], slots[0]["band"]) == ("2026-11-18", "Early")
    assert slots[0]["band_id"] == org.bands["Early"].id
    assert slots[0]["from"] < slots[0]["until"] == slots[1]["from"]
    assert (slots[-1]["date"], slots[-1]["band"]) == ("2026-11-29", "Night")
    # Nothing that cannot work: the answers and the way to enrol wait for the script, which knows the phone.
    assert panel.hidden["choices"] and panel.hidden["enrol-needed"]
    assert "/enrol" in links_in(html)
    assert "verified-rate.js" in html


def test_the_enrol_page_fetches_tokens_only_when_verified(client: FlaskClient, session: Session) -> None:
    make_org(session)
    assert "enrol-tokens.js" not in client.get("/enrol").get_data(as_text=True)
    set_rating_mode(session, RatingMode.VERIFIED, since=dt.date(2026, 11, 1))
    session.commit()
    html = client.get("/enrol").get_data(as_text=True)
    assert "enrol-tokens.js" in html and 'data-weeks="2026-11-16 2026-11-23"' in html


def test_the_privacy_page_explains_the_mode_in_use(client: FlaskClient, session: Session) -> None:
    org = make_org(session)
    page = client.get(f"/r/{org.team.join_code}/privacy").get_data(as_text=True)
    assert "Open rating." in page and "Verified rating." not in page
    set_rating_mode(session, RatingMode.VERIFIED, since=dt.date(2026, 11, 1))
    session.commit()
    page = client.get(f"/r/{org.team.join_code}/privacy").get_data(as_text=True)
    assert "Verified rating." in page and "Open rating." not in page
    assert "What a web page cannot prevent" in page
